package logwatch

import (
	"strings"
	"unicode/utf8"
)

// MaxSignatureBytes bounds a signature, so a set of distinct signatures
// stays small whatever the messages are.
const MaxSignatureBytes = 256

// Signature returns a normalised form of a record, the same for every
// repeat of one error: numbers, hexadecimal ids, UUIDs and quoted values
// ('...', "...", `...`) become placeholders, and the record's database name
// is replaced, so an error seen on two databases or with two record ids
// counts once. It is "<logger>: <line>", where line is the most informative
// one: psycopg's ERROR: line for a bad query (the SQL itself varies), else
// the message, followed by the exception line of a traceback.
func Signature(rec Record) string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(rec.Logger)
	if rec.Logger != "" {
		b.WriteString(": ")
	}
	if e := sqlError(rec); e != "" && isBadQuery(rec) {
		normalize(&b, e, rec.Database)
	} else {
		normalize(&b, rec.Message, rec.Database)
		if exc := exceptionLine(rec); exc != "" {
			b.WriteString(" | ")
			normalize(&b, exc, rec.Database)
		}
	}
	return truncate(b.String(), MaxSignatureBytes)
}

// Placeholders Signature writes.
const (
	numberMark = "<n>"
	idMark     = "<id>"
	dbMark     = "<db>"
	quotedMark = "?"
)

// normalize appends s to b with variable parts replaced and runs of blanks
// collapsed. It stops once b is over MaxSignatureBytes.
func normalize(b *strings.Builder, s, db string) {
	blank := false
	for i := 0; i < len(s) && b.Len() <= MaxSignatureBytes; {
		c := s[i]
		if c == ' ' || c == '\t' {
			blank = true
			i++
			continue
		}
		if blank {
			b.WriteByte(' ')
			blank = false
		}
		prevWord := i > 0 && isWordByte(s[i-1])
		switch {
		case (c == '\'' || c == '"' || c == '`') && !prevWord:
			// An apostrophe inside a word ("Couldn't") opens no quote.
			if j := strings.IndexByte(s[i+1:], c); j >= 0 {
				b.WriteByte(c)
				b.WriteString(quotedMark)
				b.WriteByte(c)
				i += j + 2
				continue
			}
		case db != "" && !isNameByte(prevByte(s, i)) && strings.HasPrefix(s[i:], db) &&
			!isNameByte(byteAt(s, i+len(db))):
			b.WriteString(dbMark)
			i += len(db)
			continue
		case isWordByte(c):
			if isUUID(s[i:]) {
				b.WriteString(idMark)
				i += len(uuidLayout)
				continue
			}
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			// A hash may start with a digit or a letter; a number of
			// any length stays a number.
			switch w := s[i:j]; {
			case len(w) >= 8 && isHexID(w):
				b.WriteString(idMark)
			case c >= '0' && c <= '9':
				b.WriteString(numberMark)
			default:
				b.WriteString(w)
			}
			i = j
			continue
		}
		b.WriteByte(c)
		i++
	}
}

// isWordByte reports whether c belongs to an identifier: [A-Za-z0-9_].
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// isNameByte reports whether c may appear in a database name, which unlike
// an identifier may hold '-' and '.'.
func isNameByte(c byte) bool { return isWordByte(c) || c == '-' || c == '.' }

func prevByte(s string, i int) byte {
	if i == 0 {
		return 0
	}
	return s[i-1]
}

func byteAt(s string, i int) byte {
	if i >= len(s) {
		return 0
	}
	return s[i]
}

// isHexID reports whether w is all hexadecimal with both digits and
// letters, the shape of a hash or a hex id: "deadbeef" alone is a word and
// "20260101" a number.
func isHexID(w string) bool {
	digit, letter := false, false
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !isHexByte(c) {
			return false
		}
		if c <= '9' {
			digit = true
		} else {
			letter = true
		}
	}
	return digit && letter
}

func isHexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

const uuidLayout = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"

// isUUID reports whether s starts with a UUID in its 8-4-4-4-12 form.
func isUUID(s string) bool {
	if len(s) < len(uuidLayout) || isWordByte(byteAt(s, len(uuidLayout))) {
		return false
	}
	for i := 0; i < len(uuidLayout); i++ {
		c := s[i]
		if uuidLayout[i] == '-' {
			if c != '-' {
				return false
			}
		} else if !isHexByte(c) {
			return false
		}
	}
	return true
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
