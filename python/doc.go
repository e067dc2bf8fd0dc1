// Package python holds the Go side of the Python package in this
// directory (multiproc/, installable with pip install ./python): the tests
// that run Go and Python processes on the same queues, values and locks.
// It has no API; the Python package documents itself (README.md).
package python
