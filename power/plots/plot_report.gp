# Plots of a GCA-TLM run, like the paper's Fig. 5c-e, from the data files the power reports
# write into a run's output folder (power/src/report.cpp, write_plot_data). Run it from that
# folder:   cd OUT && gnuplot /path/to/power/plots/plot_report.gp
# (render_plots() in gca_power does exactly that). Writes energy_split.png,
# gpu_comparison.png, energy_per_token.png and power_windows.png.

set datafile separator ','
set terminal pngcairo size 900,560 font 'DejaVu Sans,11' noenhanced
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
rows(f) = int(system("wc -l < '" . f . "' 2>/dev/null || echo 0"))

# --- Fig. 5e: energy per head per token, by module group, model vs paper -----------------------
if (rows('energy_groups.csv') > 1) {
  set output 'energy_split.png'
  set title "Energy per head per token (steady state) by module group\n(cost constants calibrated at the paper's point, predicted elsewhere)"
  set ylabel 'energy per head per token (pJ)'
  set style data histograms
  set style histogram clustered gap 1
  set style fill solid 0.85 border -1
  set boxwidth 0.9
  set yrange [0:*]
  set offsets 0, 0, graph 0.2, 0
  set xrange [-0.6:rows('energy_groups.csv') - 1.4]
  set key top left
  plot 'energy_groups.csv' skip 1 using 2:xtic(1) title 'this model (calibrated at the paper point)' lc rgb '#1f77b4', \
       '' skip 1 using 3 title 'paper (Fig. 5e), reference' lc rgb '#ff7f0e', \
       '' skip 1 using ($0 - 0.18):2:(sprintf('%.0f', $2)) with labels offset 0,0.7 notitle, \
       '' skip 1 using ($0 + 0.18):3:(sprintf('%.0f', $3)) with labels offset 0,0.7 notitle
  unset output
  set offsets 0, 0, 0, 0
  set style data lines
  set yrange [*:*]
  set xrange [*:*]
}

# --- Fig. 5c,d: latency and energy per token (one layer's attention) against GPUs, log scales --
# The data file holds only figures of the simulated shape; its "# title:" line names that shape
# and its "# left out:" line says how many figures of other shapes were not drawn (skip 3: the
# two "# " lines and the header; energy NaN: not measured, no bar).
header(f, key) = system("sed -n 's/^# " . key . ": //p' '" . f . "' 2>/dev/null")
if (rows('gpu_comparison.csv') > 1) {
  set output 'gpu_comparison.png'
  set terminal pngcairo size 1400,720 font 'DejaVu Sans,10' noenhanced
  gpu_title = header('gpu_comparison.csv', 'title')
  gpu_left_out = header('gpu_comparison.csv', 'left out')
  if (gpu_left_out ne 'none' && gpu_left_out ne '') {
    gpu_title = gpu_title . "\nnot drawn: " . gpu_left_out
  }
  set multiplot layout 1,2 title gpu_title
  gpu_bars = rows('gpu_comparison.csv') - 3  # less the two "# " lines and the header
  set xrange [-0.6 : (gpu_bars < 4 ? 4 : gpu_bars) - 0.4]
  set style fill solid 0.85 border -1
  set boxwidth 0.7
  set logscale y 10
  set format y '10^{%L}'
  set format y '%.0e'
  set xtics rotate by 30 right
  set rmargin 3
  set bmargin 12
  unset key
  set title 'latency'
  set ylabel 'latency per token (ns)'
  set yrange [1:1e7]
  plot 'gpu_comparison.csv' skip 3 using 0:2:xtic(1) with boxes lc rgb '#2ca02c', \
       '' skip 3 using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.8 font ',8' notitle
  set title 'energy'
  set ylabel 'energy per token (nJ)'
  set yrange [1:1e8]
  plot 'gpu_comparison.csv' skip 3 using 0:3:xtic(1) with boxes lc rgb '#d62728', \
       '' skip 3 using 0:3:(sprintf('%.3g', $3)) with labels offset 0,0.8 font ',8' notitle
  unset multiplot
  unset output
  set xrange [*:*]
  unset logscale y
  set format y '%g'
  set yrange [*:*]
  set xtics norotate
  unset rmargin
  unset bmargin
  set terminal pngcairo size 900,560 font 'DejaVu Sans,11' noenhanced
}

# --- Energy per head per token over the run (rises while the window fills) --------------------
if (rows('energy_per_token.csv') > 1) {
  set output 'energy_per_token.png'
  set title 'Energy per head per token over the run'
  set xlabel 'token'
  set ylabel 'energy per head per token (pJ)'
  set key top left
  set yrange [0:*]
  plot 'energy_per_token.csv' skip 1 using 1:6 with lines lw 2 lc rgb 'black' title 'total', \
       '' skip 1 using 1:4 with lines lc rgb '#9467bd' title 'digital', \
       '' skip 1 using 1:2 with lines lc rgb '#1f77b4' title 'qk', \
       '' skip 1 using 1:3 with lines lc rgb '#ff7f0e' title 'av', \
       '' skip 1 using 1:5 with lines lc rgb '#2ca02c' title 'dac'
  unset output
  set yrange [*:*]
}

# --- Windowed average power (DRAMSys style) -----------------------------------------------------
if (rows('power_windows.csv') > 1) {
  set output 'power_windows.png'
  set title 'Average power per window of simulated time (all simulated heads)'
  set xlabel 'simulated time (us)'
  set ylabel 'average power (mW)'
  set key top left
  set yrange [0:*]
  plot 'power_windows.csv' skip 1 using ($1/1000):6 with steps lw 2 lc rgb 'black' title 'total', \
       '' skip 1 using ($1/1000):4 with steps lc rgb '#9467bd' title 'digital', \
       '' skip 1 using ($1/1000):2 with steps lc rgb '#1f77b4' title 'qk', \
       '' skip 1 using ($1/1000):3 with steps lc rgb '#ff7f0e' title 'av', \
       '' skip 1 using ($1/1000):5 with steps lc rgb '#2ca02c' title 'dac'
  unset output
}
