package modules

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// moduleName is what an Odoo module's name looks like (a Python package
// name). Names read from the tenant's database that do not match cannot be
// in any image; they are not sent to the preflight Job.
var moduleName = regexp.MustCompile(`^[A-Za-z0-9_]{1,128}$`)

var leadingDigits = regexp.MustCompile(`^[0-9]{1,9}`)

// ValidName reports whether name can be the name of an Odoo module.
func ValidName(name string) bool { return moduleName.MatchString(name) }

// ErrListingIncomplete is returned when the preflight's log lacks its end line (the Job
// was cut short, or the image is not an Odoo image).
var ErrListingIncomplete = errors.New("the preflight printed no complete module listing")

// maxListing bounds the modules read from one listing.
const maxListing = 20000

// ParseListing reads the modules a preflight Job printed, each line
// starting with linePrefix, the listing closed by a line starting with
// endPrefix and the count. Other lines (Odoo's own log) are skipped. The
// log is the image's output, so the tenant's: lines are bounded by the
// caller's read limit, malformed ones make the listing invalid.
func ParseListing(log []byte, linePrefix, endPrefix string) ([]Shipped, error) {
	var out []Shipped
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, endPrefix); i >= 0 {
			// Only the digits: another stream's text may follow on the
			// same line where stdout and stderr are merged.
			count := leadingDigits.FindString(line[i+len(endPrefix):])
			n, err := strconv.Atoi(count)
			if err != nil || n != len(out) {
				return nil, fmt.Errorf("%w: it announced %q modules and listed %d", ErrListingIncomplete, count, len(out))
			}
			return out, nil
		}
		i := strings.Index(line, linePrefix)
		if i < 0 {
			continue
		}
		var s Shipped
		if err := json.Unmarshal([]byte(line[i+len(linePrefix):]), &s); err != nil || !ValidName(s.Name) {
			return nil, fmt.Errorf("%w: a malformed line", ErrListingIncomplete)
		}
		if len(out) == maxListing {
			return nil, fmt.Errorf("%w: more than %d modules", ErrListingIncomplete, maxListing)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrListingIncomplete, err)
	}
	return nil, ErrListingIncomplete
}
