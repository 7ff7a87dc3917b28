package postgres

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestScramSHA256VerifierFormat(t *testing.T) {
	salt := []byte("0123456789abcdef")
	v, err := ScramSHA256Verifier("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(v, "$")
	if len(parts) != 3 || parts[0] != "SCRAM-SHA-256" || !strings.HasPrefix(parts[1], "4096:"+base64.StdEncoding.EncodeToString(salt)) {
		t.Fatalf("verifier %q has the wrong shape", v)
	}
	// Recompute by the RFC 5802 definitions.
	salted, _ := pbkdf2.Key(sha256.New, "pencil", salt, 4096, 32)
	mac := func(k []byte, m string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(m)); return h.Sum(nil) }
	stored := sha256.Sum256(mac(salted, "Client Key"))
	want := "SCRAM-SHA-256$4096:" + base64.StdEncoding.EncodeToString(salt) + "$" +
		base64.StdEncoding.EncodeToString(stored[:]) + ":" + base64.StdEncoding.EncodeToString(mac(salted, "Server Key"))
	if v != want {
		t.Fatalf("verifier\n got %s\nwant %s", v, want)
	}
	again, _ := ScramSHA256Verifier("pencil", salt, 4096)
	if again != v {
		t.Fatal("verifier is not deterministic for a fixed salt")
	}
	if _, err := ScramSHA256Verifier("pencil", salt, 0); err == nil {
		t.Fatal("zero iterations accepted")
	}
	if _, err := ScramSHA256Verifier("pencil", nil, 4096); err == nil {
		t.Fatal("empty salt accepted")
	}
}

func TestVerifierMatches(t *testing.T) {
	pw := `p@ss w'rd"\ =;--`
	v, err := NewScramVerifier(pw)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := NewScramVerifier(pw)
	if v == v2 {
		t.Fatal("two verifiers share a salt")
	}
	if !VerifierMatches(v, pw) || !VerifierMatches(v2, pw) {
		t.Fatal("verifier does not match its password")
	}
	for _, wrong := range []string{"", "p@ss w'rd", pw + " ", strings.ToUpper(pw)} {
		if VerifierMatches(v, wrong) {
			t.Fatalf("verifier matches %q", wrong)
		}
	}
	for _, bad := range []string{
		"", "md5" + strings.Repeat("0", 32), pw, "SCRAM-SHA-256$", "SCRAM-SHA-256$4096:c2FsdA==$AAAA:BBBB",
		"SCRAM-SHA-256$0:" + strings.SplitN(v, ":", 2)[1],
		"SCRAM-SHA-256$99999999999:" + strings.SplitN(v, ":", 2)[1],
		strings.Replace(v, "$", "#", 1),
	} {
		if VerifierMatches(bad, pw) {
			t.Fatalf("malformed verifier %q matches", bad)
		}
	}
	if !IsScramVerifier(v) || IsScramVerifier("md5abc") {
		t.Fatal("IsScramVerifier")
	}
}

func TestNewScramVerifierRefusesUnsupportedPasswords(t *testing.T) {
	for _, pw := range []string{"", "pässword", "a\x00b", "caf\u00e9-but-long-enough"} {
		_, err := NewScramVerifier(pw)
		if !errors.Is(err, ErrUnsupportedPassword) {
			t.Fatalf("NewScramVerifier(%q) error = %v", pw, err)
		}
		if pw != "" && strings.Contains(err.Error(), pw) {
			t.Fatalf("error contains the password: %v", err)
		}
	}
	// SASLprep leaves pure ASCII alone, control characters included.
	if _, err := NewScramVerifier("tab\tand newline\n and DEL\x7f"); err != nil {
		t.Fatalf("ASCII control characters refused: %v", err)
	}
}
