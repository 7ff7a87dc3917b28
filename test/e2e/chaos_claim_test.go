//go:build e2e && chaos

package e2e

// A filestore claim full during a restore (issue 17, docs/reliability.md).
// The sandbox's claims are host directories (hack/sandbox-provisioner); the
// test mounts a small tmpfs over the instance's filestore claim directory
// (its content copied in), so the restore Job, a host process of the Job
// player, really meets a full volume (ENOSPC, statfs). Mounting needs root,
// as the sandbox machine runs the tests.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	odoov1alpha2 "github.com/odoo-operator/odoo-operator/api/v1alpha2"
	"github.com/odoo-operator/odoo-operator/internal/resources"
	"github.com/odoo-operator/odoo-operator/test/framework"
)

// smallVolume mounts a tmpfs of size MiB over dir with dir's content, and
// when the test ends puts what the tmpfs then holds back on the disk.
func smallVolume(t *testing.T, dir string, sizeMiB int) {
	t.Helper()
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	stage := t.TempDir()
	run("cp", "-a", dir+"/.", stage)
	run("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm,mode=0755", sizeMiB), "tmpfs", dir)
	t.Cleanup(func() {
		back := t.TempDir()
		run("cp", "-a", dir+"/.", back)
		run("umount", dir)
		run("find", dir, "-mindepth", "1", "-delete")
		run("cp", "-a", back+"/.", dir)
	})
	run("cp", "-a", stage+"/.", dir)
}

// fill takes all the free space of dir's volume with one file (fallocate:
// at once), and returns a function that removes it.
func fill(t *testing.T, dir string) func() {
	t.Helper()
	path := filepath.Join(dir, "chaos-filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	size := int64(st.Bavail) * st.Bsize
	// tmpfs counts whole pages: shrink until it fits, then top up.
	for size > 0 {
		if err := syscall.Fallocate(int(f.Fd()), 0, 0, size); err == nil {
			break
		} else if !errors.Is(err, syscall.ENOSPC) {
			t.Fatal(err)
		}
		size -= 1 << 20
	}
	for off := size; ; off += 4096 {
		if err := syscall.Fallocate(int(f.Fd()), 0, off, 4096); err != nil {
			break
		}
	}
	if err := syscall.Statfs(dir, &st); err != nil || st.Bavail > 1 {
		t.Fatalf("the volume of %s still has %d blocks free (%v)", dir, st.Bavail, err)
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// TestChaosClaimFullDuringRestore: the instance's filestore claim (a 160
// MiB tmpfs holding a 32 MiB filestore) is full when a restore of a backup
// of that filestore starts, then fills up after the restore checked the
// space and before it stages the backup's filestore (its process paused
// meanwhile), so the staging meets a full volume. Each restore fails with a message naming the
// lack of space, leaves the live database and filestore as they were (the
// instance keeps its database, no staging directory is left behind), and
// releases the lock; once space is freed, a restore completes. One Job per
// restore.
func TestChaosClaimFullDuringRestore(t *testing.T) {
	ns := framework.Namespace(t, fmt.Sprintf("chaos-claim-%d", time.Now().UnixMilli()%1_000_000))
	c := framework.NewClients(t)
	framework.Apply(t, ns, instanceManifest("shop"))
	framework.Kubectl(t, "wait", "-n", ns, "--for=condition=Ready", odooRef("shop"), "--timeout=3m")
	db := jsonpath(t, ns, "odoo/shop", "{.status.database.name}")
	framework.ModuleFixture(t, db)
	framework.SandboxSQL(t, db, neutralizedFixture)
	framework.GiveTablesToOwner(t, db)
	claim := claimDir(t, ns, "shop-filestore-pvc")
	stores := filepath.Join(claim, "filestore")
	attachment := filepath.Join(stores, db, "ab", "ab12cd34")
	writeFile(t, attachment, "before")
	for i := range 64 {
		randomFile(t, filepath.Join(stores, db, fmt.Sprintf("%02x", i), fmt.Sprintf("chaos%d", i)), 512<<10)
	}
	backedUp := checksums(t, db)
	backupToClaim(t, ns, "src", "shop/src.zip")
	framework.Kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Completed", backupRef+"src", "--timeout=2m")
	key := jsonpath(t, ns, backupRef+"src", "{.status.objectKey}")

	framework.SandboxSQL(t, db, `CREATE TABLE live_rows (id serial PRIMARY KEY, note text); INSERT INTO live_rows (note) VALUES ('live')`)
	framework.GiveTablesToOwner(t, db)
	writeFile(t, attachment, "after")
	live := checksums(t, db)
	jobs := recordJobs(t, c, ns, "shop")
	// 32 MiB live, and room for the restore's check (the 32 MiB declared
	// plus its 64 MiB reserve) with 64 MiB to spare.
	smallVolume(t, claim, 160)

	restore := func(name string) {
		framework.Apply(t, ns, fmt.Sprintf(`apiVersion: bemade.org/v1alpha2
kind: OdooRestoreJob
metadata:
  name: %s
spec:
  odooInstanceRef: {name: shop}
  format: zip
  neutralize: false
  keepPreviousDatabase: true
  source:
    type: pvc
    pvc: {claimName: backups, path: %s}
`, name, key))
	}
	ended := func(name string) *odoov1alpha2.OdooRestoreJob {
		var rj *odoov1alpha2.OdooRestoreJob
		framework.Eventually(t, 2*wait, "restore "+name+" ended", func() error {
			var err error
			if rj, err = getRestore(context.Background(), c, ns, name); err != nil {
				return err
			}
			if rj.Status.Phase != odoov1alpha2.JobCompleted && rj.Status.Phase != odoov1alpha2.JobFailed {
				return fmt.Errorf("phase %q step %q: %s", rj.Status.Phase, rj.Status.Step, rj.Status.Message)
			}
			return nil
		})
		return rj
	}
	// failedCleanly checks a restore that met the full claim.
	failedCleanly := func(t *testing.T, name string, before []string, began time.Time, wants ...string) {
		t.Helper()
		rj := ended(name)
		t.Logf("chaos: restore %s ended %s at step %s %v after it was created: %s", name, rj.Status.Phase, rj.Status.Step,
			time.Since(began).Round(100*time.Millisecond), rj.Status.Message)
		if rj.Status.Phase != odoov1alpha2.JobFailed {
			t.Fatalf("restore %s on a full claim: %s, want Failed", name, rj.Status.Phase)
		}
		if !containsAny(rj.Status.Message, wants...) {
			t.Errorf("restore %s: message %q names none of %q", name, rj.Status.Message, wants)
		}
		if got := jsonpath(t, ns, "odoo/shop", "{.status.database.name}"); got != db {
			t.Errorf("the instance's database is %q after the failed restore, want %s", got, db)
		}
		if got := checksums(t, db); !maps.Equal(got, live) {
			t.Errorf("the live database %s changed by a failed restore:\n got %v\nwant %v", db, got, live)
		}
		if b, err := os.ReadFile(attachment); err != nil || string(b) != "after" {
			t.Errorf("the live attachment holds %q (%v), want \"after\"", b, err)
		}
		entries, _ := os.ReadDir(stores)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".partial-") {
				t.Errorf("the failed restore left its staging directory filestore/%s", e.Name())
			}
		}
		jobs.expectOneNewJob(t, resources.JobKindRestoreBackup, before, name+"-restore")
		framework.Eventually(t, wait, "lock released", func() error {
			if op, err := operationOf(context.Background(), c, ns, "shop"); err != nil || op != nil {
				return fmt.Errorf("status.operation %+v (%w)", op, err)
			}
			return nil
		})
		waitTier(t, ns, "shop", fromImage)
	}

	t.Run("full-at-start", func(t *testing.T) {
		free := fill(t, claim)
		before := jobs.jobs(t, resources.JobKindRestoreBackup)
		began := time.Now()
		restore("full")
		failedCleanly(t, "full", before, began, "not enough free space")
		free()
	})

	t.Run("fills-while-staging", func(t *testing.T) {
		before := jobs.jobs(t, resources.JobKindRestoreBackup)
		began := time.Now()
		restore("filling")
		// The restore checks the space first, then reads the whole archive
		// (its checksum and CRCs), then stages the filestore. Its process
		// is paused once it has read 8 MiB (past the check, before the
		// staging: the archive is over 32 MiB), the claim filled, and the
		// process resumed: the staging meets the full volume.
		pid := restoreProcess(t, ns)
		read := pausedAfterReading(t, pid, 8<<20)
		free := fill(t, claim)
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Fatalf("resuming the restore (pid %d): %v", pid, err)
		}
		t.Logf("chaos: the claim filled up %v after the restore was created, its process paused after reading %d MiB of the archive",
			time.Since(began).Round(time.Millisecond), read>>20)
		failedCleanly(t, "filling", before, began, "no space left on device")
		free()
	})

	// Space freed: a restore of the same backup completes.
	before := jobs.jobs(t, resources.JobKindRestoreBackup)
	freed := time.Now()
	restore("after-full")
	rj := ended("after-full")
	if rj.Status.Phase != odoov1alpha2.JobCompleted {
		t.Fatalf("the restore after space was freed: %s: %s", rj.Status.Phase, rj.Status.Message)
	}
	t.Logf("chaos: a restore Completed %v after space was freed", time.Since(freed).Round(100*time.Millisecond))
	jobs.expectOneNewJob(t, resources.JobKindRestoreBackup, before, "after-full-restore")
	if got := checksums(t, db); !maps.Equal(got, backedUp) {
		t.Errorf("database %s after the completed restore:\n got %v\nwant %v (the backup's)", db, got, backedUp)
	}
	if got := checksums(t, rj.Status.KeptDatabase); !maps.Equal(got, live) {
		t.Errorf("the kept database %s:\n got %v\nwant %v (the live one before the restore)", rj.Status.KeptDatabase, got, live)
	}
	if b, err := os.ReadFile(attachment); err != nil || string(b) != "before" {
		t.Errorf("the live attachment holds %q (%v) after the restore, want the backup's \"before\"", b, err)
	}
	waitTier(t, ns, "shop", fromImage)
	waitTier(t, ns, "shop-cron", fromImage)
}

// restoreProcess is the pid of the host process the Job player runs for the
// restore Job of namespace ns (`odoo-operator data restore-backup`, its
// command line naming the backup's path, which holds the namespace).
// /proc is scanned every millisecond, not at framework.Eventually's 250 ms:
// the process reads its archive in well under a second, and the scenario
// must pause it before it stages the filestore. At 250 ms a loaded machine
// found it only after it had read 96 MiB, past the staging in 1 of 10 runs.
func restoreProcess(t *testing.T, ns string) int {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if pid := findRestoreProcess(ns); pid != 0 {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no odoo-operator data restore-backup process for %s within %v", ns, wait)
		}
		time.Sleep(time.Millisecond)
	}
}

func findRestoreProcess(ns string) int {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, d := range dirs {
		n, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		// The Job player runs <operator binary> data --termination-log=... restore-backup ...
		if len(args) > 3 && filepath.Base(args[0]) == "odoo-operator" && args[1] == "data" && slices.Contains(args[2:4], "restore-backup") &&
			strings.Contains(string(b), ns) {
			return n
		}
	}
	return 0
}

// pausedAfterReading stops pid (SIGSTOP) as soon as it has read n bytes
// (rchar of /proc/<pid>/io, polled every millisecond) and returns how much
// it had read.
func pausedAfterReading(t *testing.T, pid int, n int64) int64 {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
		if err != nil {
			t.Fatalf("the restore's process %d ended before it read %d bytes: %v", pid, n, err)
		}
		var read int64
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "rchar: "); ok {
				read, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		if read >= n {
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				t.Fatalf("pausing the restore (pid %d): %v", pid, err)
			}
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
			return read
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restore's process %d read %d bytes in %v, want %d", pid, read, wait, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
