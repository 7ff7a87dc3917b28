package logwatch

// Half of each cap goes to the first lines of a record, half to the last.
const (
	headLines = MaxContinuationLines / 2
	headBytes = MaxContinuationBytes / 2
	tailLines = MaxContinuationLines - headLines
	tailBytes = MaxContinuationBytes - headBytes
)

// continuation collects one record's continuation lines within the caps. It
// keeps the first lines and a ring of the last ones, dropping the middle: a
// traceback's first line says where it started and its last line names the
// exception, and the frames between are what a cap can spare.
type continuation struct {
	head      []string
	headBytes int
	// ring is allocated once per Parser and reused for every record.
	ring      []string
	start, n  int
	ringBytes int
	dropped   int
}

func (c *continuation) add(line string) {
	if c.n == 0 && len(c.head) < headLines && c.headBytes+len(line) <= headBytes {
		c.head = append(c.head, line)
		c.headBytes += len(line)
		return
	}
	if len(line) > tailBytes {
		// Unreachable while MaxLineBytes <= tailBytes; kept so the bound
		// holds whatever the constants become.
		c.dropped++
		return
	}
	if c.ring == nil {
		c.ring = make([]string, tailLines)
	}
	for c.n == tailLines || c.ringBytes+len(line) > tailBytes {
		c.ringBytes -= len(c.ring[c.start])
		c.ring[c.start] = ""
		c.start = (c.start + 1) % tailLines
		c.n--
		c.dropped++
	}
	c.ring[(c.start+c.n)%tailLines] = line
	c.n++
	c.ringBytes += len(line)
}

// take returns the lines kept, in order, and the count dropped, and resets c
// for the next record.
func (c *continuation) take() (lines []string, dropped int) {
	lines = c.head
	for i := 0; i < c.n; i++ {
		j := (c.start + i) % tailLines
		lines = append(lines, c.ring[j])
		c.ring[j] = ""
	}
	dropped = c.dropped
	*c = continuation{ring: c.ring}
	return lines, dropped
}
