# Plots of a design-space sweep (gca-sim sweep), from the data files the merge writes into the
# sweep's output folder (testbench/src/sweep/sweep_merge.cpp). Run from that folder with
#   gnuplot -e "nkeys=2; keynames='window array.cols'" /path/to/power/plots/plot_sweep.gp
# Writes sweep_pareto.png, sweep_energy_split.png, and per swept key sweep_vs_<key>.png (energy
# and area) and sweep_latency_vs_<key>.png.
#
# Every point carries its number; the legend on the right gives each number's values, and lists
# failed points (red) and failed checks (orange) so that no point vanishes silently. Energy,
# area and latency axes start at zero (log latency axes excepted); the spread of each figure
# over the sweep is printed in % under the title, so a small difference cannot pass for a large
# one.

set datafile separator ','
set terminal pngcairo size 1280,640 font 'DejaVu Sans,11' noenhanced
set grid xtics ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set rmargin at screen 0.69
if (!exists("nkeys")) nkeys = 0
if (!exists("keynames")) keynames = ''
rows(f) = int(system("grep -vc '^#' '" . f . "' 2>/dev/null || echo 0"))
npoints = rows('sweep_plot_points.csv')
nfailed = 0
npointsall = npoints
load 'sweep_plot_legend.gp'
failnote = nfailed > 0 ? sprintf('; %d of %d points failed (legend, red)', nfailed, npointsall) : ''
# "min .. max (spread +x %)" of one column of a file (scaled).
spread(lo, hi, unit) = sprintf('%.4g .. %.4g %s (spread %.2f %%)', lo, hi, unit, lo > 0 ? 100.0 * (hi - lo) / lo : 0.0)

# --- Energy against latency per token, the Pareto front (both minimized) marked --------------
if (npoints > 0) {
  stats 'sweep_plot_points.csv' using 3 nooutput
  lat_lo = STATS_min; lat_hi = STATS_max
  stats 'sweep_plot_points.csv' using ($4/1000) nooutput
  en_lo = STATS_min; en_hi = STATS_max
  # Latencies over more than two decades (e.g. host time swept) read better on a log axis.
  if (lat_lo > 0 && lat_hi > 100 * lat_lo) { set logscale x 10 } else { set xrange [0:lat_hi * 1.15] }
  set yrange [0:en_hi * 1.15]
  set output 'sweep_pareto.png'
  set title sprintf("Energy vs latency per generated token (each number one configuration%s)\nlatency %s; energy %s", failnote, spread(lat_lo, lat_hi, 'ns'), spread(en_lo, en_hi, 'nJ'))
  set xlabel 'end-to-end latency per token (ns)'
  set ylabel 'energy per token, all heads (nJ)'
  set key bottom right
  plot 'sweep_plot_points.csv' using 3:($4/1000) with points pt 7 ps 1.2 lc rgb '#1f77b4' \
         title 'sweep point', \
       '' using 3:(($11 > 0) ? $4/1000 : 1/0) with points pt 6 ps 2 lw 2 lc rgb '#ff7f0e' \
         title 'check failed', \
       '' using 3:($4/1000):(sprintf('%d', $1)) with labels offset char 0.9,0.6 font ',9' notitle, \
       'sweep_plot_pareto.csv' using 1:($2/1000) with steps lw 2 lc rgb '#d62728' \
         title 'Pareto front', \
       '' using 1:($2/1000) with points pt 6 ps 2.2 lw 2 lc rgb '#d62728' notitle
  unset output
  unset logscale x
  set xrange [*:*]
  set yrange [*:*]
}

# --- Energy and area, and latency, against each swept key -------------------------------------
if (npoints > 0 && nkeys > 0) {
  do for [i=1:nkeys] {
    key = word(keynames, i)
    f = sprintf('sweep_plot_key%d.csv', i)
    stats f using ($7 > 0 ? $3/1000 : 1/0) nooutput
    en_lo = STATS_min; en_hi = STATS_max
    stats f using ($7 > 0 ? $4 : 1/0) nooutput
    ar_lo = STATS_min; ar_hi = STATS_max
    stats f using ($7 > 0 ? $6 : 1/0) nooutput
    lat_lo = STATS_min; lat_hi = STATS_max
    set xrange [-0.5:*]
    set offsets 0, 0.5, 0, 0
    set xlabel key

    set output sprintf('sweep_vs_%s.png', key)
    set title sprintf("Energy and area vs %s (numbers: points; x on the axis: failed)\nenergy %s; area %s", key, spread(en_lo, en_hi, 'nJ'), spread(ar_lo, ar_hi, 'mm^2'))
    set ylabel 'energy per token, all heads (nJ)'
    set y2label 'area (mm^2)'
    set ytics nomirror
    set y2tics
    set yrange [0:en_hi * 1.15]
    set y2range [0:ar_hi * 1.15]
    set key outside top center horizontal
    plot f using 1:($7 > 0 ? $3/1000 : 1/0):xtic(2) with points pt 7 ps 1.4 lc rgb '#1f77b4' title 'energy', \
         f using 1:($7 > 0 ? $3/1000 : 1/0):(sprintf('%d', $5)) with labels offset char 1.2,0 font ',9' notitle, \
         f using ($1+0.08):($7 > 0 ? $4 : 1/0) axes x1y2 with points pt 5 ps 1.2 lc rgb '#2ca02c' title 'area', \
         f using 1:($7 > 0 ? 1/0 : 0) with points pt 2 ps 2.5 lw 2 lc rgb '#d62728' title 'failed'
    unset output
    unset y2tics
    unset y2label
    set y2range [*:*]
    set ytics nomirror

    set output sprintf('sweep_latency_vs_%s.png', key)
    set title sprintf("Latency per token vs %s (numbers: points; x on the axis: failed)\nlatency %s", key, spread(lat_lo, lat_hi, 'ns'))
    set ylabel 'end-to-end latency per token (ns)'
    if (lat_lo > 0 && lat_hi > 100 * lat_lo) { set logscale y 10; set yrange [*:*] } else { set yrange [0:lat_hi * 1.15] }
    plot f using 1:($7 > 0 ? $6 : 1/0):xtic(2) with points pt 7 ps 1.4 lc rgb '#9467bd' title 'latency', \
         f using 1:($7 > 0 ? $6 : 1/0):(sprintf('%d', $5)) with labels offset char 1.2,0 font ',9' notitle, \
         f using 1:($7 > 0 ? 1/0 : (lat_lo > 0 && lat_hi > 100 * lat_lo ? lat_lo : 0)) with points pt 2 ps 2.5 lw 2 lc rgb '#d62728' title 'failed'
    unset output
    unset logscale y
    set yrange [*:*]
    set xrange [*:*]
    set offsets 0, 0, 0, 0
  }
}

# --- Energy per head per token by module group, one stacked bar per point ---------------------
if (npoints > 0) {
  set output 'sweep_energy_split.png'
  set title sprintf("Energy per head per token by module group (steady state); bars numbered as the legend%s", failnote)
  set xlabel 'sweep point (legend on the right)'
  set ylabel 'energy per head per token (pJ)'
  set style data histograms
  set style histogram rowstacked
  set style fill solid 0.85 border -1
  set boxwidth 0.75
  set yrange [0:*]
  set key outside bottom center horizontal
  plot 'sweep_plot_points.csv' using 7:xtic(1) title 'qk' lc rgb '#1f77b4', \
       '' using 8 title 'av' lc rgb '#ff7f0e', \
       '' using 9 title 'digital' lc rgb '#9467bd', \
       '' using 10 title 'dac' lc rgb '#2ca02c'
  unset output
}
