// Package figure draws the plot files of labelfree's reports (eval/report,
// annotate/report): a row of gonum.org/v1/plot panels, optionally under a
// title, rendered as PNG and as SVG.
//
// # Determinism
//
// The same Figure gives the same bytes every time, on every machine:
// nothing drawn depends on the time (PNG and SVG carry no time stamp), the
// fonts are the Liberation fonts that gonum/plot compiles in rather than
// the system's, and the SVG names those fonts without embedding them.
package figure
