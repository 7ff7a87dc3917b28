package main

import "testing"

func TestPathMapRewrite(t *testing.T) {
	pm := newPathMap(
		mapping{container: "/var/lib/odoo", host: "/srv/vol/ns/filestore"},
		mapping{container: "/backup-store", host: "/srv/vol/ns/backups"},
		mapping{container: "/var/lib/odoo/sessions/", host: "/tmp/sessions"},
		mapping{container: "/dev/termination-log", host: "/tmp/pod/termination-log"},
	)
	tests := []struct{ in, want string }{
		{"/backup-store", "/srv/vol/ns/backups"},
		{"file:///backup-store/shop.zip", "file:///srv/vol/ns/backups/shop.zip"},
		{"/var/lib/odoo/filestore/prod_shop", "/srv/vol/ns/filestore/filestore/prod_shop"},
		{"--filestore=/var/lib/odoo/filestore/db", "--filestore=/srv/vol/ns/filestore/filestore/db"},
		{"--to=file:///backup-store/a/b.zip", "--to=file:///srv/vol/ns/backups/a/b.zip"},
		// The nested mount wins over the one around it.
		{"/var/lib/odoo/sessions/x", "/tmp/sessions/x"},
		{"--termination-log=/dev/termination-log", "--termination-log=/tmp/pod/termination-log"},
		// Not below a mount: unchanged.
		{"/backup-storeX/shop.zip", "/backup-storeX/shop.zip"},
		{"s3://bucket/backup-store/x", "s3://bucket/backup-store/x"},
		{"backup", "backup"},
		{"--format", "--format"},
		{"/etc/passwd", "/etc/passwd"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := pm.rewrite(tt.in); got != tt.want {
			t.Errorf("rewrite(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestHasVarReference: only what the kubelet would expand, $(NAME), is
// refused; a shell's command substitution in a script is left to the shell.
func TestHasVarReference(t *testing.T) {
	for a, want := range map[string]bool{
		"$(PGDATABASE)":                         true,
		"--to=file:///x/$(POD_NAME).zip":        true,
		"$(my.var-1)":                           true,
		`echo "copied $(wc -l < /tmp/old.md5)"`: false,
		"$$(PGDATABASE)":                        true, // an escape the player does not undo either
		"plain":                                 false,
		"$PGDATABASE":                           false,
	} {
		if got := hasVarReference(a); got != want {
			t.Errorf("hasVarReference(%q) = %v, want %v", a, got, want)
		}
	}
}
