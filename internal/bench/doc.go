// Package bench measures Colophon against the engine it wraps (issue 4): plain `tesseract PAGE
// stdout` run as many at a time as there are cores, OCRmyPDF on the same pages as one PDF, and
// the pipeline end to end, on the same pages in one run. It renders the benchmark pages,
// runs the two outside tools, times the pipeline through internal/client (throughput, and
// the overhead of single pages on an idle pipeline), reads CPU time from the kernel, and
// formats the report; cmd/colophon's `bench` command starts the stack and puts it together.
//
// Nothing here asserts speed: the figures are for people (docs/benchmarks.md), and tests
// check only that the report is complete and sane.
package bench
