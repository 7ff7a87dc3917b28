package modules

import (
	"strconv"
	"strings"
)

// CompareVersions compares two Odoo module versions ("18.0.1.3") part by
// part, numerically where both parts are numbers, as text otherwise; a
// version that is a prefix of the other is the lower ("18.0.1" <
// "18.0.1.0"). It returns -1, 0 or 1.
func CompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if c := comparePart(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(pa) < len(pb):
		return -1
	case len(pa) > len(pb):
		return 1
	}
	return 0
}

func comparePart(a, b string) int {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		switch {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	case errA == nil: // a number sorts before text, like Odoo's parse_version
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}
