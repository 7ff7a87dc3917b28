// Package datajob is what the operator's data Jobs (`odoo-operator data
// ...`) and the controllers that run them share: the one result the data
// command writes to its container's termination log (Result), the reading of
// that result back from a Job's pod, the failure message of a failed Job, the
// Job's outcome (Outcome) and the images the Jobs run. The command writes it,
// every controller reads it: neither side declares its own copy.
package datajob
