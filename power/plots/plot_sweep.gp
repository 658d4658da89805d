# Plots of a design-space sweep (gca-sim sweep), from the data files the merge writes into the
# sweep's output folder (testbench/src/sweep/sweep_merge.cpp). Run from that folder with
#   gnuplot -e "nkeys=2; keynames='window array.cols'" /path/to/power/plots/plot_sweep.gp
# Writes sweep_pareto.png, sweep_energy_split.png and sweep_vs_<key>.png per swept key.

set datafile separator ','
set terminal pngcairo size 900,600 font 'DejaVu Sans,11' noenhanced
set grid xtics ytics lc rgb '#dddddd'
set border 3
set tics nomirror
if (!exists("nkeys")) nkeys = 0
if (!exists("keynames")) keynames = ''
rows(f) = int(system("grep -vc '^#' '" . f . "' 2>/dev/null || echo 0"))
npoints = rows('sweep_plot_points.csv')

# --- Energy against latency per token, the Pareto front (both minimized) marked --------------
if (npoints > 0) {
  # Latencies over more than two decades (e.g. host time swept) read better on a log axis.
  stats 'sweep_plot_points.csv' using 3 nooutput
  if (STATS_min > 0 && STATS_max > 100 * STATS_min) { set logscale x 10 }
  set output 'sweep_pareto.png'
  set title 'Energy vs latency per generated token (each point one configuration)'
  set xlabel 'end-to-end latency per token (ns)'
  set ylabel 'energy per token, all heads (nJ)'
  set key top right
  plot 'sweep_plot_points.csv' using 3:($4/1000) with points pt 7 ps 1.2 lc rgb '#1f77b4' \
         title 'sweep point', \
       '' using 3:($4/1000):2 with labels offset 0,1 font ',9' notitle, \
       'sweep_plot_pareto.csv' using 1:($2/1000) with steps lw 2 lc rgb '#d62728' \
         title 'Pareto front', \
       '' using 1:($2/1000) with points pt 6 ps 2.2 lw 2 lc rgb '#d62728' notitle
  unset output
  unset logscale x
}

# --- Energy and area against each swept key ----------------------------------------------------
if (npoints > 0 && nkeys > 0) {
  do for [i=1:nkeys] {
    key = word(keynames, i)
    f = sprintf('sweep_plot_key%d.csv', i)
    set output sprintf('sweep_vs_%s.png', key)
    set title sprintf('Energy and area vs %s', key)
    set xlabel key
    set ylabel 'energy per token, all heads (nJ)'
    set y2label 'area (mm^2)'
    set ytics nomirror
    set y2tics
    set xrange [-0.5:*]
    set offsets 0, 0.5, 0, 0
    set key outside top center horizontal
    plot f using 1:($3/1000):xtic(2) with points pt 7 ps 1.4 lc rgb '#1f77b4' title 'energy', \
         f using ($1+0.08):4 axes x1y2 with points pt 5 ps 1.2 lc rgb '#2ca02c' title 'area'
    unset output
    unset y2tics
    unset y2label
    set ytics mirror
    set xrange [*:*]
    set offsets 0, 0, 0, 0
  }
}

# --- Energy per head per token by module group, one stacked bar per point ---------------------
if (npoints > 0) {
  set output 'sweep_energy_split.png'
  set title 'Energy per head per token by module group (steady state)'
  set xlabel 'sweep point'
  set ylabel 'energy per head per token (pJ)'
  set style data histograms
  set style histogram rowstacked
  set style fill solid 0.85 border -1
  set boxwidth 0.75
  set yrange [0:*]
  set xtics rotate by 45 right
  set key outside right top
  plot 'sweep_plot_points.csv' using 7:xtic(2) title 'qk' lc rgb '#1f77b4', \
       '' using 8 title 'av' lc rgb '#ff7f0e', \
       '' using 9 title 'digital' lc rgb '#9467bd', \
       '' using 10 title 'dac' lc rgb '#2ca02c'
  unset output
}
