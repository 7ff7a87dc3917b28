package logwatch

// stripCRI removes the prefix container runtimes write in front of every
// line of a container log file (the CRI log format, also what kwok serves):
//
//	2026-01-01T00:00:00.040000000Z stderr F <line>
//
// The tag is F for a full line or P for a partial one: the runtime splits
// lines longer than its buffer (16 KiB in containerd) and the rest follows in
// the next record. ok is false when b has no such prefix, which is the case
// for `kubectl logs` output (the kubelet strips it).
func stripCRI(b []byte) (content []byte, partial, ok bool) {
	// The timestamp is RFC 3339 with nanoseconds; checking the date part and
	// the 'T' is enough to tell it from Odoo's "YYYY-MM-DD HH:" prefix.
	if len(b) < 11 || !isDigits(b[0:4]) || b[4] != '-' || !isDigits(b[5:7]) ||
		b[7] != '-' || !isDigits(b[8:10]) || b[10] != 'T' {
		return nil, false, false
	}
	i := 11
	for i < len(b) && b[i] != ' ' {
		i++
	}
	if i == 11 || i == len(b) {
		return nil, false, false
	}
	rest := b[i+1:]
	if len(rest) < 8 || (string(rest[:7]) != "stdout " && string(rest[:7]) != "stderr ") {
		return nil, false, false
	}
	tag := rest[7]
	if tag != 'F' && tag != 'P' {
		return nil, false, false
	}
	switch {
	case len(rest) == 8:
		return rest[8:], tag == 'P', true
	case rest[8] == ' ':
		return rest[9:], tag == 'P', true
	}
	return nil, false, false
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
