#!/usr/bin/env python3
"""Measure decode attention on a GPU or CPU and write a baseline file for `gca-sim run --baselines`.

One decode step of one transformer layer's attention: for each of `batch` sequences and each of
`heads` heads, one query of `d_head` values against a full KV cache of `window` tokens
(scaled dot-product attention: softmax(q K^T / sqrt(d)) V). Per token = per step / batch.

Latency: CUDA events on a GPU (eager launches and, where PyTorch has them, CUDA-graph replays),
the wall clock on a CPU; warm-up first, then the median over repeats of many steps each.
Energy: on a GPU the board's total-energy counter through NVML (pynvml, from nvidia-ml-py),
else NVML power samples, else `nvidia-smi` power samples; on a CPU the package energy counters
of /sys/class/powercap (RAPL) where readable; otherwise "not measured". Idle power is measured
before the work, stated, and subtracted for the "above idle" figures.

The file it writes is the format of power/data/gpu_baselines.json (docs/gpu_baselines.md),
with what was measured and how: device, driver and library versions, shape, method and date.

Runs with PyTorch 1.13 (CPU) and 2.x (CPU or CUDA). Example:
    python3 power/tools/measure_baseline.py --device cuda --out my_gpu.json
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time

TOOL = "power/tools/measure_baseline.py"
FORMAT = "gca-tlm.gpu-baselines/1"


def fail(msg):
    """One line naming the problem, exit status 2."""
    sys.stderr.write("measure_baseline.py: " + msg + "\n")
    sys.exit(2)


torch = None  # imported once the arguments are checked (a few seconds), see import_torch()


def import_torch():
    global torch
    try:
        import torch as imported
    except ImportError:
        fail("PyTorch is not installed for " + sys.executable + " (Debian: apt install python3-torch)")
    torch = imported


# ------------------------------------------------------------------------------------------------
# The workload


def attention_step(kernel):
    """The function of one decode step: (q [B,H,1,d], k, v [B,H,W,d]) -> out [B,H,1,d]."""
    if kernel == "sdpa":
        sdpa = torch.nn.functional.scaled_dot_product_attention
        return lambda q, k, v: sdpa(q, k, v)

    def matmul_softmax_matmul(q, k, v):
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
        return torch.matmul(torch.softmax(scores, dim=-1), v)

    return matmul_softmax_matmul


def pick_kernel(requested):
    have_sdpa = hasattr(torch.nn.functional, "scaled_dot_product_attention")
    if requested == "sdpa" and not have_sdpa:
        fail("--kernel sdpa: torch " + torch.__version__ + " has no scaled_dot_product_attention")
    if requested == "auto":
        return "sdpa" if have_sdpa else "matmul"
    return requested


KERNEL_TEXT = {
    "sdpa": "torch.nn.functional.scaled_dot_product_attention",
    "matmul": "matmul, softmax, matmul (PyTorch ops)",
}


# ------------------------------------------------------------------------------------------------
# Energy meters: start() then stop() -> joules over the interval, or None when not measured


class NvmlCounter:
    """The board's cumulative energy counter (mJ), NVML, Volta and later."""

    def __init__(self, nvml, handle):
        self.nvml, self.handle = nvml, handle
        self.method = "NVML total-energy counter of the board (nvmlDeviceGetTotalEnergyConsumption)"

    def read_mj(self):
        return self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)

    def start(self):
        self.begin = self.read_mj()

    def stop(self):
        return (self.read_mj() - self.begin) * 1e-3


class PowerSampler:
    """Power samples from a callable (watts), every `period` s on a thread, integrated (trapezoid)."""

    def __init__(self, read_w, method, period=0.01):
        self.read_w, self.method, self.period = read_w, method, period

    def _run(self):
        while not self.done.is_set():
            self.samples.append((time.perf_counter(), self.read_w()))
            self.done.wait(self.period)

    def start(self):
        self.samples, self.done = [], threading.Event()
        self.samples.append((time.perf_counter(), self.read_w()))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def stop(self):
        self.done.set()
        self.thread.join()
        self.samples.append((time.perf_counter(), self.read_w()))
        s = self.samples
        return sum((s[i][0] - s[i - 1][0]) * (s[i][1] + s[i - 1][1]) / 2 for i in range(1, len(s)))


class Rapl:
    """CPU package energy counters of /sys/class/powercap (RAPL), all packages summed."""

    def __init__(self, zones):
        self.zones = zones  # [(energy_uj path, max_energy_range_uj)]
        names = ", ".join(os.path.basename(os.path.dirname(p)) for p, _ in zones)
        self.method = "RAPL package energy counters (" + names + ", /sys/class/powercap)"

    @staticmethod
    def find():
        root = "/sys/class/powercap"
        zones, why = [], "no /sys/class/powercap (no RAPL driver, or a virtual machine)"
        if not os.path.isdir(root):
            return None, why
        for entry in sorted(os.listdir(root)):
            if not re.match(r"^(intel-rapl|amd-rapl):\d+$", entry):
                continue  # top-level packages only: sub-zones are parts of them
            d = os.path.join(root, entry)
            try:
                with open(os.path.join(d, "name")) as f:
                    if not f.read().startswith("package"):
                        continue
                with open(os.path.join(d, "energy_uj")) as f:
                    int(f.read())
                with open(os.path.join(d, "max_energy_range_uj")) as f:
                    wrap = int(f.read())
            except PermissionError:
                return None, d + "/energy_uj is not readable by this user (root only on this kernel)"
            except (OSError, ValueError):
                continue
            zones.append((os.path.join(d, "energy_uj"), wrap))
        if not zones:
            return None, "no readable RAPL package zone under " + root
        return Rapl(zones), ""

    def read(self):
        out = []
        for path, _ in self.zones:
            with open(path) as f:
                out.append(int(f.read()))
        return out

    def start(self):
        self.begin = self.read()

    def stop(self):
        total = 0
        for (_, wrap), a, b in zip(self.zones, self.begin, self.read()):
            total += b - a if b >= a else b + wrap - a
        return total * 1e-6


def nvml_meter(torch_index, preferred):
    """(meter or None, why not, NVML driver version or None)."""
    try:
        import pynvml as nvml
    except ImportError:
        return None, "pynvml (nvidia-ml-py) not installed", None
    try:
        nvml.nvmlInit()
        handle = None
        uuid = getattr(torch.cuda.get_device_properties(torch_index), "uuid", None)
        if uuid is not None:
            want = str(uuid).replace("GPU-", "")
            for i in range(nvml.nvmlDeviceGetCount()):
                h = nvml.nvmlDeviceGetHandleByIndex(i)
                got = nvml.nvmlDeviceGetUUID(h)
                got = got.decode() if isinstance(got, bytes) else got
                if got.replace("GPU-", "") == want:
                    handle = h
        if handle is None:
            handle = nvml.nvmlDeviceGetHandleByIndex(torch_index)
        driver = nvml.nvmlSystemGetDriverVersion()
        driver = driver.decode() if isinstance(driver, bytes) else driver
    except Exception as e:  # NVML errors have many classes; any of them means "no NVML"
        return None, "NVML unavailable: " + str(e), None
    if preferred in ("auto", "nvml-counter"):
        try:
            nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
            return NvmlCounter(nvml, handle), "", driver
        except Exception as e:
            if preferred == "nvml-counter":
                return None, "NVML energy counter unsupported: " + str(e), driver
    try:
        nvml.nvmlDeviceGetPowerUsage(handle)
    except Exception as e:
        return None, "NVML power reading unsupported: " + str(e), driver
    read = lambda: nvml.nvmlDeviceGetPowerUsage(handle) * 1e-3  # noqa: E731 (mW -> W)
    return PowerSampler(read, "NVML power samples every 10 ms (nvmlDeviceGetPowerUsage), integrated"), "", driver


def nvidia_smi_meter(torch_index):
    if shutil.which("nvidia-smi") is None:
        return None, "nvidia-smi not found"

    def read():
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=power.draw", "--format=csv,noheader,nounits", "-i", str(torch_index)],
            capture_output=True, text=True, check=True).stdout
        return float(out.strip().splitlines()[0])

    try:
        read()
    except Exception as e:
        return None, "nvidia-smi power.draw unreadable: " + str(e)
    return PowerSampler(read, "nvidia-smi power.draw samples every 50 ms, integrated", period=0.05), ""


# ------------------------------------------------------------------------------------------------
# Timing


class Runner:
    """Runs `steps` decode steps and says how long they took (seconds)."""

    def __init__(self, device, launch, step, inputs):
        self.device, self.launch = device, launch
        q, k, v = inputs
        if launch == "cuda graph":
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(3):  # warm-up before capture, as PyTorch asks
                    step(q, k, v)
            torch.cuda.current_stream().wait_stream(stream)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.out = step(q, k, v)
            self.one = self.graph.replay
        else:
            self.one = lambda: step(q, k, v)

    def sync(self):
        if self.device == "cuda":
            torch.cuda.synchronize()

    def run(self, steps):
        if self.device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(steps):
                self.one()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) * 1e-3
        t0 = time.perf_counter()
        for _ in range(steps):
            self.one()
        return time.perf_counter() - t0


def time_steps(runner, warmup_s, repeat_s, repeats):
    """Median seconds per step over `repeats` repeats of a count of steps lasting ~repeat_s."""
    runner.run(1)
    runner.sync()
    t_end = time.perf_counter() + warmup_s
    steps = 1
    while True:  # warm-up, and how many steps a repeat needs
        dt = runner.run(steps)
        if time.perf_counter() >= t_end and dt > 0:
            break
        if dt < repeat_s:
            steps *= 2
    steps = max(1, int(round(steps * repeat_s / max(dt, 1e-9))))
    per_step = [runner.run(steps) / steps for _ in range(repeats)]
    return statistics.median(per_step), steps, per_step


def energy_steps(runner, meter, seconds, steps_per_chunk):
    """Runs steps for about `seconds`; (joules, seconds, steps) over that interval."""
    runner.sync()
    meter.start()
    t0 = time.perf_counter()
    steps = 0
    while True:
        runner.run(steps_per_chunk)
        steps += steps_per_chunk
        if time.perf_counter() - t0 >= seconds:
            break
    runner.sync()
    elapsed = time.perf_counter() - t0
    joules = meter.stop()
    return joules, elapsed, steps


def idle_power(meter, seconds):
    time.sleep(0.5)  # let the clocks settle after allocation
    meter.start()
    t0 = time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - t0
    return meter.stop() / elapsed


# ------------------------------------------------------------------------------------------------
# Device facts


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def software_versions(device, driver):
    sw = {"python": platform.python_version(), "torch": torch.__version__}
    try:
        import numpy

        sw["numpy"] = numpy.__version__
    except ImportError:
        pass
    if device == "cuda":
        sw["cuda"] = torch.version.cuda
        if torch.backends.cudnn.is_available():
            sw["cudnn"] = str(torch.backends.cudnn.version())
        if driver:
            sw["driver"] = driver
    else:
        sw["threads"] = torch.get_num_threads()
    sw["os"] = platform.platform()
    return sw


# ------------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Measure decode attention (one layer, per token) and write a baseline file "
        "for `gca-sim run --baselines FILE`.")
    p.add_argument("--device", choices=["cuda", "cpu"], required=True)
    p.add_argument("--heads", type=int, default=12, help="heads of the layer (default 12)")
    p.add_argument("--d-head", type=int, default=64, help="values per head (default 64)")
    p.add_argument("--window", type=int, default=1024, help="tokens in the KV cache (default 1024)")
    p.add_argument("--batch", type=int, action="append",
                   help="sequences decoded together; repeatable (default 1 and 64)")
    p.add_argument("--dtype", choices=["float16", "bfloat16", "float32"],
                   help="default float16 on cuda, float32 on cpu")
    p.add_argument("--kernel", choices=["auto", "sdpa", "matmul"], default="auto",
                   help="scaled_dot_product_attention where PyTorch has it (auto), or matmul-softmax-matmul")
    p.add_argument("--no-graph", action="store_true", help="eager launches only (cuda)")
    p.add_argument("--energy", choices=["auto", "nvml-counter", "nvml-power", "nvidia-smi", "rapl", "none"],
                   default="auto", help="how to measure energy (default: the best available)")
    p.add_argument("--repeats", type=int, default=21, help="timed repeats, median taken (default 21)")
    p.add_argument("--repeat-seconds", type=float, default=0.05, help="length of one repeat (default 0.05 s)")
    p.add_argument("--warmup-seconds", type=float, default=0.5, help="warm-up (default 0.5 s)")
    p.add_argument("--energy-seconds", type=float, default=2.0,
                   help="length of each energy measurement (default 2 s)")
    p.add_argument("--idle-seconds", type=float, default=3.0, help="idle power measurement (default 3 s)")
    p.add_argument("--name", help="device name in the report (default: the device's own name)")
    p.add_argument("--note", default="", help="a sentence added to the method (e.g. the machine was shared)")
    p.add_argument("--out", required=True, help="baseline file to write (JSON)")
    a = p.parse_args(argv)
    a.batch = a.batch or [1, 64]
    for key, lo in (("heads", 1), ("d_head", 1), ("window", 1), ("repeats", 1)):
        if getattr(a, key) < lo:
            fail("--" + key.replace("_", "-") + " must be >= " + str(lo))
    if any(b < 1 for b in a.batch):
        fail("--batch must be >= 1")
    for key in ("repeat_seconds", "energy_seconds", "idle_seconds"):
        if not getattr(a, key) > 0:
            fail("--" + key.replace("_", "-") + " must be > 0")
    if a.warmup_seconds < 0:
        fail("--warmup-seconds must be >= 0")
    a.dtype = a.dtype or ("float16" if a.device == "cuda" else "float32")
    out_dir = os.path.dirname(os.path.abspath(a.out))
    if not os.path.isdir(out_dir):  # before measuring, not after
        fail(a.out + ": folder " + out_dir + " does not exist")
    return a


def choose_meter(a, torch_index):
    """(meter or None, why not, driver version or None)."""
    if a.energy == "none":
        return None, "not requested (--energy none)", None
    if a.device == "cpu":
        if a.energy not in ("auto", "rapl"):
            fail("--energy " + a.energy + " measures a GPU; on a CPU use rapl, auto or none")
        meter, why = Rapl.find()
        return meter, why, None
    if a.energy == "rapl":
        fail("--energy rapl measures a CPU; on a GPU use nvml-counter, nvml-power, nvidia-smi, auto or none")
    driver, why = None, ""
    if a.energy in ("auto", "nvml-counter", "nvml-power"):
        meter, why, driver = nvml_meter(torch_index, a.energy)
        if meter is not None or a.energy != "auto":
            return meter, why, driver
    meter, why2 = nvidia_smi_meter(torch_index)
    return meter, "; ".join(w for w in (why, why2) if w), driver


def measure(a):
    if a.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda: PyTorch " + torch.__version__ + " sees no CUDA device (use --device cpu)")
    torch.manual_seed(0)
    dev = torch.device("cuda" if a.device == "cuda" else "cpu")
    torch_index = torch.cuda.current_device() if a.device == "cuda" else 0
    dtype = getattr(torch, a.dtype)
    kernel = pick_kernel(a.kernel)
    step = attention_step(kernel)
    meter, no_energy_why, driver = choose_meter(a, torch_index)
    device_name = torch.cuda.get_device_name(torch_index) if a.device == "cuda" else cpu_name()
    launches = ["eager"]
    if a.device == "cuda" and not a.no_graph and hasattr(torch.cuda, "CUDAGraph"):
        launches.append("cuda graph")

    # Idle power first, before any work heats the device or raises its clocks.
    idle_w = idle_power(meter, a.idle_seconds) if meter else None

    rows = []
    for batch in a.batch:
        shape = (batch, a.heads, a.window, a.d_head)
        try:
            q = torch.rand(batch, a.heads, 1, a.d_head, device=dev).to(dtype)
            k = torch.rand(shape, device=dev).to(dtype)
            v = torch.rand(shape, device=dev).to(dtype)
            step(q, k, v)
        except RuntimeError as e:
            fail("batch %d, %s on %s: %s" % (batch, a.dtype, a.device, str(e).splitlines()[0]))
        row = {"batch": batch}
        for launch in launches:
            runner = Runner(a.device, launch, step, (q, k, v))
            step_s, steps, per_step = time_steps(runner, a.warmup_seconds, a.repeat_seconds, a.repeats)
            m = {"step_us": step_s * 1e6, "latency_us": step_s * 1e6 / batch,
                 "steps_per_repeat": steps, "repeats": a.repeats,
                 "step_us_min": min(per_step) * 1e6, "step_us_max": max(per_step) * 1e6}
            if meter:
                joules, seconds, n = energy_steps(runner, meter, a.energy_seconds, steps)
                m["energy_mj"] = joules * 1e3 / (n * batch)
                above = (joules - idle_w * seconds) * 1e3 / (n * batch)
                # Below idle (noise, or idle measured while something else ran): not given.
                m["energy_above_idle_mj"] = above if above >= 0 else None
                m["average_power_w"] = joules / seconds
                m["energy_interval_s"] = seconds
                m["energy_steps"] = n
                m["energy_interval_latency_us"] = seconds * 1e6 / (n * batch)
            else:
                m["energy_mj"] = None
            row[launch] = m
            del runner
        rows.append(row)
        del q, k, v
        if a.device == "cuda":
            torch.cuda.empty_cache()
    return {"rows": rows, "launches": launches, "kernel": kernel, "meter": meter, "idle_w": idle_w,
            "no_energy_why": no_energy_why, "driver": driver, "device_name": device_name}


def method_text(a, res):
    launches = res["launches"]
    timer = "CUDA events" if a.device == "cuda" else "the wall clock (time.perf_counter)"
    text = ("one decode step of one layer's attention (%d heads, d_head %d, a full KV cache of %d "
            "tokens, %s, %s); warm-up %.2g s, then %d repeats of many steps each (about %.2g s a "
            "repeat) timed with %s, median per step; per token = per step / batch; launches: %s"
            % (a.heads, a.d_head, a.window, a.dtype, KERNEL_TEXT[res["kernel"]], a.warmup_seconds,
               a.repeats, a.repeat_seconds, timer, ", ".join(launches)))
    if res["meter"]:
        text += ("; energy: %s over %.2g s of continuous steps per point, idle power %.1f W measured "
                 "for %.2g s before the work and subtracted for the above-idle figures"
                 % (res["meter"].method, a.energy_seconds, res["idle_w"], a.idle_seconds))
        if a.device == "cpu":
            text += " (the package counters include everything else running on the CPU)"
    else:
        text += "; energy not measured: " + res["no_energy_why"]
    if a.device == "cpu":
        text += "; PyTorch threads: %d" % torch.get_num_threads()
    if a.note:
        text += "; " + a.note
    return text


def baseline_file(a, res, date):
    name = a.name or res["device_name"]
    headline = "cuda graph" if "cuda graph" in res["launches"] else "eager"
    source = "measured %s on %s with %s (method in this file)" % (date[:10], name, TOOL)
    entries = []
    for row in res["rows"]:
        m = row[headline]
        e = {"name": "%s %s (batch %d)" % (name, a.dtype, row["batch"]),
             "latency_us": m["latency_us"],
             "energy_mj": m["energy_mj"]}
        if m.get("energy_above_idle_mj") is not None:
            e["energy_above_idle_mj"] = m["energy_above_idle_mj"]
        e.update({"batch": row["batch"], "dtype": a.dtype, "launch": headline, "source": source,
                  "measured": {launch: row[launch] for launch in res["launches"]}})
        entries.append(e)
    return {
        "format": FORMAT,
        "description": "Per-token latency and energy of one layer's decode attention on %s, measured "
                       "with %s, for `gca-sim run --baselines FILE`." % (name, TOOL),
        "workload": {
            "description": "one layer's attention per generated token: %d heads, d_head %d, window %d"
                           % (a.heads, a.d_head, a.window),
            "n_heads": a.heads, "d_head": a.d_head, "window": a.window},
        "measurement": {
            "device": name, "device_kind": a.device, "date": date, "tool": TOOL,
            "method": method_text(a, res),
            "energy": res["meter"].method if res["meter"] else "not measured: " + res["no_energy_why"],
            "idle_w": res["idle_w"],
            "software": software_versions(a.device, res["driver"]),
            "command": " ".join(["measure_baseline.py"] + sys.argv[1:]),
        },
        "gpus": entries,
    }


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        fail(path + ": folder " + d + " does not exist")
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        fail(path + ": cannot write: " + e.strerror)


def main(argv):
    a = parse_args(argv)
    import_torch()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with torch.no_grad():
        res = measure(a)
    doc = baseline_file(a, res, date)
    write_atomic(a.out, json.dumps(doc, indent=1) + "\n")
    for e in doc["gpus"]:
        if e["energy_mj"] is None:
            energy = "energy not measured"
        else:
            above = e.get("energy_above_idle_mj")
            energy = "%.4g mJ (%s above idle)" % (e["energy_mj"], "%.4g" % above if above is not None else "none")
        print("%s: %.4g us per token, %s [%s]" % (e["name"], e["latency_us"], energy, e["launch"]))
    print("idle power: " + ("%.1f W" % res["idle_w"] if res["idle_w"] is not None else "not measured"))
    print("wrote " + a.out)


if __name__ == "__main__":
    main(sys.argv[1:])
