// Package logwatch reads Odoo logs: it parses the text layout Odoo writes
// (odoo/netsvc.py), with or without the CRI prefix a container runtime adds,
// into records, sorts error records into a few categories an operator can act
// on, reduces them to signatures so repeats count once, and judges the log of
// an `odoo -u all --stop-after-init` Job.
//
// Everything streams with bounded memory: a Parser keeps a few line buffers
// of MaxLineBytes and one record within MaxContinuationBytes whatever the
// input, so the operator can read any pod's log without a budget of its own.
// The hot path uses no regexp: parsing and classifying run at over 100 MB/s
// on one core.
package logwatch
