package manager

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/datajob"
	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
	"github.com/odoo-operator/odoo-operator/internal/postgres"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/internal/testutil/pgharness"
)

// testCert makes a CA, and a server certificate for localhost signed by it
// (PEM), or only the CA when server is false.
func testCert(t *testing.T, server bool) (caPEM string, certPEM, keyPEM []byte) {
	t.Helper()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(err)
	caPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	if !server {
		return caPEM, nil, nil
	}
	ca, err := x509.ParseCertificate(caDER)
	must(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "postgres"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	must(err)
	kder, err := x509.MarshalECPrivateKey(key)
	must(err)
	return caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

// serveTLS gives the harness server the certificate and turns TLS on.
func serveTLS(t *testing.T, s *pgharness.Server, certPEM, keyPEM []byte) {
	t.Helper()
	fi, err := os.Stat(s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	for name, data := range map[string][]byte{"server.crt": certPEM, "server.key": keyPEM} {
		p := filepath.Join(s.DataDir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, int(st.Uid), int(st.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	admin := dbtoolstest.Connect(t, s, "postgres")
	for _, q := range []string{"ALTER SYSTEM SET ssl_cert_file = 'server.crt'", "ALTER SYSTEM SET ssl_key_file = 'server.key'",
		"ALTER SYSTEM SET ssl = on", "SELECT pg_reload_conf()"} {
		dbtoolstest.Exec(t, admin, q)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		cfg, _ := pgx.ParseConfig(strings.Replace(s.ConnString(), "sslmode=disable", "sslmode=require", 1))
		c, err := pgx.ConnectConfig(dbtoolstest.Ctx(t), cfg)
		if err == nil {
			_ = c.Close(dbtoolstest.Ctx(t))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not enable TLS: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDataJobVerifiesTheServerWithTheClustersCA: a cluster with a caCert
// (and no sslMode) gives the backup Job sslmode verify-full and the CA
// Secret mounted with PGSSLROOTCERT pointing at it. Run with that
// environment and that file against a real PostgreSQL serving TLS, the
// data command (pgx, then pg_dump through libpq) connects, verifying the
// server; with another CA in the mounted file it refuses to connect.
func TestDataJobVerifiesTheServerWithTheClustersCA(t *testing.T) {
	s := pgharness.Start(t)
	caPEM, certPEM, keyPEM := testCert(t, true)
	serveTLS(t, s, certPEM, keyPEM)
	src := dbtoolstest.Name(t, "tls")
	dbtoolstest.CreateFixture(t, s, src, "")

	cluster := postgres.Cluster{Name: "main", Host: "localhost", Port: int32(s.Port), CACert: caPEM}
	inst := &odoov1alpha2.OdooInstance{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "tenant", UID: "inst-uid"}}
	b := &odoov1alpha2.OdooBackupJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: "tenant", UID: "b-uid"},
		Spec: odoov1alpha2.OdooBackupJobSpec{Format: odoov1alpha2.BackupFormatDump,
			Destination: odoov1alpha2.BackupDestination{PVC: &odoov1alpha2.PVCLocation{ClaimName: "backups"}}}}
	apply := resources.BackupJob(resources.BackupJobInputs{Backup: b, Location: resources.NewBackupLocation(b, inst),
		Data: resources.DataJobInputs{Instance: inst, Host: cluster.Host, Port: cluster.Port, Database: src,
			SSLMode: cluster.ClientSSLMode(), DBCA: cluster.CACert != ""}})
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(apply)
	if err != nil {
		t.Fatal(err)
	}
	job := &batchv1.Job{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u, job); err != nil {
		t.Fatal(err)
	}
	pod := job.Spec.Template.Spec
	c := pod.Containers[0]

	// The CA Secret's volume, mounted where PGSSLROOTCERT says.
	mounted := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounted[m.Name] = m.MountPath
	}
	var caSecret string
	for _, v := range pod.Volumes {
		if v.Secret != nil && mounted[v.Name] == resources.DBCAMountPath {
			caSecret = v.Secret.SecretName
		}
	}
	if caSecret != resources.DBCASecretName(inst) {
		t.Fatalf("the Job mounts no CA Secret at %s (volumes %v)", resources.DBCAMountPath, pod.Volumes)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["PGSSLMODE"] != postgres.SSLModeVerifyFull || env["PGSSLROOTCERT"] != resources.DBCAFile {
		t.Fatalf("PGSSLMODE %q, PGSSLROOTCERT %q: want verify-full and %s", env["PGSSLMODE"], env["PGSSLROOTCERT"], resources.DBCAFile)
	}
	secretData := resources.DBCASecret(inst, cluster.CACert).Data

	run := func(ca []byte) (datajob.Result, string, error) {
		// The Secret's files as the kubelet would project them.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, resources.DBCAKey), ca, 0o444); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"PGHOST", "PGPORT", "PGDATABASE", "PGSSLMODE"} {
			t.Setenv(name, env[name])
		}
		t.Setenv("PGSSLROOTCERT", strings.Replace(env["PGSSLROOTCERT"], resources.DBCAMountPath, dir, 1))
		t.Setenv("PGUSER", s.AdminUser)
		t.Setenv("PGPASSWORD", s.AdminPassword)
		t.Setenv("PGCONNECT_TIMEOUT", "10")
		termLog := filepath.Join(t.TempDir(), "termination-log")
		if err := os.WriteFile(termLog, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		to := "file://" + filepath.Join(t.TempDir(), "x.dump")
		_, stderr, err := runCLI(t, "data", "backup", "--format", "dump", "--to", to, "--pg-bin-dir", s.BinDir, "--termination-log", termLog)
		return readResult(t, termLog), stderr, err
	}
	res, stderr, err := run(secretData[resources.DBCAKey])
	if err != nil || !res.OK {
		t.Fatalf("backup over verify-full with the mounted CA: %v %+v\n%s", err, res, stderr)
	}
	otherCA, _, _ := testCert(t, false)
	res, _, err = run([]byte(otherCA))
	if err == nil || res.OK {
		t.Fatalf("a CA that did not sign the server's certificate was accepted: %+v", res)
	}
	if !strings.Contains(res.Error, "certificate") {
		t.Errorf("error %q does not name the certificate", res.Error)
	}
}
