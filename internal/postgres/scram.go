package postgres

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SCRAM parameters of new verifiers: PostgreSQL's defaults.
const (
	ScramIterations = 4096
	ScramSaltLen    = 16

	scramPrefix = "SCRAM-SHA-256$"
	// maxScramIterations bounds the work VerifierMatches does for a stored
	// verifier (a hostile or odd server could store any count).
	maxScramIterations = 10_000_000
)

// ErrUnsupportedPassword is returned for role passwords the Manager cannot
// turn into a verifier that PostgreSQL and libpq clients agree on.
var ErrUnsupportedPassword = errors.New("unsupported role password")

// ScramSHA256Verifier returns the SCRAM-SHA-256 verifier of password, in the
// form PostgreSQL stores in pg_authid.rolpassword and accepts as a
// pre-encrypted password:
//
//	SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
//
// (RFC 5802 and RFC 7677, the same as PostgreSQL's scram_build_secret.) The
// password is used as is: PostgreSQL (and libpq) normalize passwords with
// SASLprep, which returns pure-ASCII input unchanged, so the result matches
// PostgreSQL for every ASCII password (NewScramVerifier refuses the others).
func ScramSHA256Verifier(password string, salt []byte, iterations int) (string, error) {
	if iterations < 1 {
		return "", fmt.Errorf("scram: iterations must be positive, got %d", iterations)
	}
	if len(salt) == 0 {
		return "", errors.New("scram: salt must not be empty")
	}
	storedKey, serverKey, err := scramKeys(password, salt, iterations)
	if err != nil {
		return "", err
	}
	b64 := base64.StdEncoding.EncodeToString
	return scramPrefix + strconv.Itoa(iterations) + ":" + b64(salt) + "$" + b64(storedKey) + ":" + b64(serverKey), nil
}

func scramKeys(password string, salt []byte, iterations int) (storedKey, serverKey []byte, err error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		// Only in FIPS 140-only mode (short password or salt); never echo the password.
		return nil, nil, fmt.Errorf("scram: pbkdf2: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	sk := sha256.Sum256(clientKey)
	return sk[:], hmacSHA256(salted, "Server Key"), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// NewScramVerifier returns a verifier of password with a fresh random 16-byte
// salt and 4096 iterations. The password must be non-empty ASCII without NUL.
func NewScramVerifier(password string) (string, error) {
	if err := checkRolePassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, ScramSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("scram: random salt: %w", err)
	}
	return ScramSHA256Verifier(password, salt, ScramIterations)
}

// checkRolePassword refuses passwords whose SCRAM verifier would depend on
// SASLprep normalization (non-ASCII), and the empty password.
func checkRolePassword(password string) error {
	if password == "" {
		return fmt.Errorf("%w: the password is empty", ErrUnsupportedPassword)
	}
	for i := 0; i < len(password); i++ {
		if password[i] == 0 || password[i] > 0x7f {
			return fmt.Errorf("%w: only ASCII characters without NUL are supported (SASLprep would change other passwords)", ErrUnsupportedPassword)
		}
	}
	return nil
}

// IsScramVerifier reports whether a stored rolpassword is a SCRAM-SHA-256
// verifier (and not, for example, an md5 hash).
func IsScramVerifier(stored string) bool { return strings.HasPrefix(stored, scramPrefix) }

// VerifierMatches reports whether the stored verifier (pg_authid.rolpassword)
// is a SCRAM-SHA-256 verifier of password. It recomputes StoredKey and
// ServerKey with the verifier's salt and iteration count and compares them in
// constant time. Anything that is not a well-formed SCRAM-SHA-256 verifier
// (md5, plaintext, NULL) does not match.
func VerifierMatches(verifier, password string) bool {
	iterations, salt, storedKey, serverKey, ok := parseScramVerifier(verifier)
	if !ok {
		return false
	}
	gotStored, gotServer, err := scramKeys(password, salt, iterations)
	if err != nil {
		return false
	}
	s1 := subtle.ConstantTimeCompare(gotStored, storedKey)
	s2 := subtle.ConstantTimeCompare(gotServer, serverKey)
	return s1&s2 == 1
}

func parseScramVerifier(v string) (iterations int, salt, storedKey, serverKey []byte, ok bool) {
	rest, found := strings.CutPrefix(v, scramPrefix)
	if !found {
		return 0, nil, nil, nil, false
	}
	params, keys, found := strings.Cut(rest, "$")
	if !found {
		return 0, nil, nil, nil, false
	}
	iterStr, saltStr, found := strings.Cut(params, ":")
	if !found {
		return 0, nil, nil, nil, false
	}
	storedStr, serverStr, found := strings.Cut(keys, ":")
	if !found {
		return 0, nil, nil, nil, false
	}
	iterations, err := strconv.Atoi(iterStr)
	if err != nil || iterations < 1 || iterations > maxScramIterations {
		return 0, nil, nil, nil, false
	}
	dec := base64.StdEncoding.DecodeString
	salt, err1 := dec(saltStr)
	storedKey, err2 := dec(storedStr)
	serverKey, err3 := dec(serverStr)
	if err1 != nil || err2 != nil || err3 != nil || len(salt) == 0 ||
		len(storedKey) != sha256.Size || len(serverKey) != sha256.Size {
		return 0, nil, nil, nil, false
	}
	return iterations, salt, storedKey, serverKey, true
}
