package framework

import (
	"net/smtp"
	"strings"
	"testing"
)

// TestSMTPSinkKeepsWhatGoSends: Go's own SMTP client delivers a message
// with a leading-dot line; the sink keeps sender, recipients and data.
func TestSMTPSinkKeepsWhatGoSends(t *testing.T) {
	s := StartSMTPSink(t)
	body := "Subject: hello\r\n\r\nfirst\r\n.dotted\r\n"
	if err := smtp.SendMail(s.Addr, nil, "staging@example.com", []string{"a@example.com", "b@example.com"}, []byte(body)); err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "staging@example.com" || strings.Join(m.To, ",") != "a@example.com,b@example.com" {
		t.Errorf("envelope %q -> %q", m.From, m.To)
	}
	if m.Data != "Subject: hello\n\nfirst\n.dotted\n" {
		t.Errorf("data %q", m.Data)
	}
}
