package storagemigration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

const testGroup = "migration.test.bemade.org"

func TestMigrationNeeded(t *testing.T) {
	tests := []struct {
		stored  []string
		storage string
		want    bool
	}{
		{stored: []string{"v2"}, storage: "v2", want: false},
		{stored: []string{"v1", "v2"}, storage: "v2", want: true},
		{stored: []string{"v2", "v1"}, storage: "v2", want: true},
		{stored: []string{"v1"}, storage: "v2", want: true},
		{stored: nil, storage: "v2", want: false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v to %s", tt.stored, tt.storage), func(t *testing.T) {
			NewWithT(t).Expect(migrationNeeded(tt.stored, tt.storage)).To(Equal(tt.want))
		})
	}
}

func TestVersions(t *testing.T) {
	g := NewWithT(t)
	crd := &apiextensionsv1.CustomResourceDefinition{Spec: apiextensionsv1.CustomResourceDefinitionSpec{Versions: []apiextensionsv1.CustomResourceDefinitionVersion{
		{Name: "v1", Served: true}, {Name: "v2", Served: true, Storage: true},
	}}}
	storage, err := storageVersion(crd)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(storage).To(Equal("v2"))
	g.Expect(requestVersion(crd, storage)).To(Equal("v2"))
	crd.Spec.Versions[1].Served = false
	g.Expect(requestVersion(crd, storage)).To(Equal("v1"), "an unserved storage version is reached through a served one")
	crd.Spec.Versions[1].Storage = false
	_, err = storageVersion(crd)
	g.Expect(err).To(HaveOccurred())
}

// testCRD installs a namespaced CRD <plural>.migration.test.bemade.org whose
// versions share one schema, conversion None, the first version storing.
func testCRD(t *testing.T, plural string, versions ...string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	schemaProps := &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
		Type: "object",
		Properties: map[string]apiextensionsv1.JSONSchemaProps{
			"spec":   {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{"value": {Type: "string"}}},
			"status": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{"seen": {Type: "string"}}},
		},
	}}
	kind := strings.ToUpper(plural[:1]) + strings.TrimSuffix(plural[1:], "s")
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + testGroup},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: testGroup,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Kind: kind, ListKind: kind + "List"},
			Scope: apiextensionsv1.NamespaceScoped,
		},
	}
	for i, v := range versions {
		crd.Spec.Versions = append(crd.Spec.Versions, apiextensionsv1.CustomResourceDefinitionVersion{
			Name: v, Served: true, Storage: i == 0, Schema: schemaProps,
			Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
		})
	}
	g.Expect(k8s.Create(ctx, crd)).To(Succeed())
	g.Eventually(func() bool {
		got := getCRD(t, crd.Name)
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true
			}
		}
		return false
	}).WithTimeout(10 * time.Second).Should(BeTrue())
	return getCRD(t, crd.Name)
}

func getCRD(t *testing.T, name string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crd := &apiextensionsv1.CustomResourceDefinition{}
	NewWithT(t).Expect(k8s.Get(context.Background(), client.ObjectKey{Name: name}, crd)).To(Succeed())
	return crd
}

func gvk(crd *apiextensionsv1.CustomResourceDefinition, version string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: testGroup, Version: version, Kind: crd.Spec.Names.Kind}
}

func createObject(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition, version, namespace, name string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk(crd, version))
	u.SetNamespace(namespace)
	u.SetName(name)
	u.Object["spec"] = map[string]any{"value": name}
	NewWithT(t).Expect(k8s.Create(context.Background(), u)).To(Succeed())
	u.Object["status"] = map[string]any{"seen": name}
	NewWithT(t).Expect(k8s.Status().Update(context.Background(), u)).To(Succeed())
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	err := k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
}

// resourceVersions lists every object of the CRD at version: name -> RV.
func resourceVersions(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition, version string) map[string]string {
	t.Helper()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk(crd, version).GroupVersion().WithKind(crd.Spec.Names.ListKind))
	NewWithT(t).Expect(k8s.List(context.Background(), list)).To(Succeed())
	out := map[string]string{}
	for _, u := range list.Items {
		out[u.GetNamespace()+"/"+u.GetName()] = u.GetResourceVersion()
	}
	return out
}

// setStorage makes version the storage version and waits until the API
// server writes new objects at it: an empty apply on a fresh object
// created at that version must not re-encode it.
func setStorage(t *testing.T, crd *apiextensionsv1.CustomResourceDefinition, version string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	fresh := getCRD(t, crd.Name)
	for i := range fresh.Spec.Versions {
		fresh.Spec.Versions[i].Storage = fresh.Spec.Versions[i].Name == version
	}
	g.Expect(k8s.Update(ctx, fresh)).To(Succeed())
	ensureNamespace(t, "canary")
	for i := 0; ; i++ {
		g.Expect(i).To(BeNumerically("<", 100), "the storage version never took effect")
		name := fmt.Sprintf("canary-%s-%d", version, i)
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gvk(crd, version))
		u.SetNamespace("canary")
		u.SetName(name)
		g.Expect(k8s.Create(ctx, u)).To(Succeed())
		rv := u.GetResourceVersion()
		probe := &unstructured.Unstructured{}
		probe.SetGroupVersionKind(gvk(crd, version))
		probe.SetNamespace("canary")
		probe.SetName(name)
		probe.SetResourceVersion(rv)
		g.Expect(k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(probe), client.FieldOwner("test"))).To(Succeed())
		g.Expect(k8s.Delete(ctx, u)).To(Succeed())
		if probe.GetResourceVersion() == rv {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestMigrate: 250 objects stored at v1 and 5 at v2, listed 100 at a time;
// the v1 ones are re-encoded, the v2 ones cost no write, storedVersions is
// trimmed, an Event tells, and a second run writes nothing at all.
func TestMigrate(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	crd := testCRD(t, "widgets", "v1", "v2")
	ensureNamespace(t, "team-a")
	ensureNamespace(t, "team-b")
	for i := range 250 {
		createObject(t, crd, "v1", []string{"team-a", "team-b"}[i%2], fmt.Sprintf("w-%03d", i))
	}
	setStorage(t, crd, "v2")
	g.Expect(getCRD(t, crd.Name).Status.StoredVersions).To(Equal([]string{"v1", "v2"}))
	for i := range 5 {
		createObject(t, crd, "v2", "team-a", fmt.Sprintf("late-%d", i))
	}
	before := resourceVersions(t, crd, "v2")
	g.Expect(before).To(HaveLen(255))

	recorder := events.NewFakeRecorder(10)
	m := &Migrator{Client: k8s, APIReader: k8s, CRDNames: []string{crd.Name}, Recorder: recorder, PageSize: 100}
	res, err := m.Migrate(ctx, crd.Name)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res).To(Equal(Result{
		CRD: crd.Name, StorageVersion: "v2",
		StoredBefore: []string{"v1", "v2"}, StoredAfter: []string{"v2"},
		Objects: 255, Rewritten: 250, Pages: 3, Passes: 1,
	}))
	g.Expect(getCRD(t, crd.Name).Status.StoredVersions).To(Equal([]string{"v2"}))
	g.Expect(<-recorder.Events).To(Equal("Normal StorageVersionMigrated migrated 255 objects to v2 (250 re-encoded); storedVersions trimmed from [v1 v2] to [v2]"))

	after := resourceVersions(t, crd, "v2")
	for key, rv := range before {
		if strings.Contains(key, "/late-") {
			g.Expect(after[key]).To(Equal(rv), "%s was already at v2: no write", key)
		} else {
			g.Expect(after[key]).NotTo(Equal(rv), "%s was not re-encoded", key)
		}
	}
	// The objects read the same at both versions, status included, and the
	// migrator left no trace in managedFields.
	for _, version := range []string{"v1", "v2"} {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk(crd, version).GroupVersion().WithKind(crd.Spec.Names.ListKind))
		g.Expect(k8s.List(ctx, list)).To(Succeed())
		g.Expect(list.Items).To(HaveLen(255))
		for _, u := range list.Items {
			value, _, _ := unstructured.NestedString(u.Object, "spec", "value")
			seen, _, _ := unstructured.NestedString(u.Object, "status", "seen")
			g.Expect(value).To(Equal(u.GetName()))
			g.Expect(seen).To(Equal(u.GetName()))
			for _, mf := range u.GetManagedFields() {
				g.Expect(mf.Manager).NotTo(Equal(DefaultFieldOwner))
			}
		}
	}

	// Idempotent: nothing to do, nothing written, no Event.
	crdRV := getCRD(t, crd.Name).ResourceVersion
	res, err = m.Migrate(ctx, crd.Name)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Objects).To(BeZero())
	g.Expect(res.StoredAfter).To(Equal([]string{"v2"}))
	g.Expect(resourceVersions(t, crd, "v2")).To(Equal(after))
	g.Expect(getCRD(t, crd.Name).ResourceVersion).To(Equal(crdRV))
	g.Expect(recorder.Events).To(BeEmpty())
}

// TestMigrateLosesNoNewStoredVersion: while the migration to v2 runs, the
// storage version moves to v3, so objects may be stored at v3 that the pass
// did not see. The storedVersions patch carries the CRD's resourceVersion,
// conflicts, and the migration starts over at v3.
func TestMigrateLosesNoNewStoredVersion(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	crd := testCRD(t, "gadgets", "v1", "v2", "v3")
	ensureNamespace(t, "team-a")
	for i := range 20 {
		createObject(t, crd, "v1", "team-a", fmt.Sprintf("g-%02d", i))
	}
	setStorage(t, crd, "v2")

	var patches atomic.Int32
	c := interceptor.NewClient(k8s, interceptor.Funcs{
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			if patches.Add(1) == 1 {
				// Just before the first trim: storage moves to v3 and an
				// object is written there.
				setStorage(t, crd, "v3")
				createObject(t, crd, "v3", "team-a", "written-at-v3")
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	})
	m := &Migrator{Client: c, APIReader: k8s, CRDNames: []string{crd.Name}, PageSize: 7}
	res, err := m.Migrate(ctx, crd.Name)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Passes).To(Equal(2))
	g.Expect(res.StorageVersion).To(Equal("v3"))
	g.Expect(res.StoredBefore).To(Equal([]string{"v1", "v2", "v3"}))
	g.Expect(res.Objects).To(Equal(21))
	g.Expect(getCRD(t, crd.Name).Status.StoredVersions).To(Equal([]string{"v3"}))
	g.Expect(resourceVersions(t, crd, "v1")).To(HaveLen(21))
}

// TestMigrateResumes: a pass cut short (a crash, a lost leadership) leaves
// storedVersions alone; the next run redoes the pass, and what the first
// one rewrote costs no write the second time.
func TestMigrateResumes(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	crd := testCRD(t, "gizmos", "v1", "v2")
	ensureNamespace(t, "team-a")
	for i := range 30 {
		createObject(t, crd, "v1", "team-a", fmt.Sprintf("z-%02d", i))
	}
	setStorage(t, crd, "v2")

	var applies atomic.Int32
	crashing := interceptor.NewClient(k8s, interceptor.Funcs{
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			if applies.Add(1) > 12 {
				return errors.New("the operator was stopped")
			}
			return c.Apply(ctx, obj, opts...)
		},
	})
	_, err := (&Migrator{Client: crashing, APIReader: k8s, PageSize: 10}).Migrate(ctx, crd.Name)
	g.Expect(err).To(MatchError(ContainSubstring("the operator was stopped")))
	g.Expect(getCRD(t, crd.Name).Status.StoredVersions).To(Equal([]string{"v1", "v2"}))

	res, err := (&Migrator{Client: k8s, APIReader: k8s, PageSize: 10}).Migrate(ctx, crd.Name)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Objects).To(Equal(30))
	g.Expect(res.Rewritten).To(Equal(18), "the 12 rewritten before the crash cost no write")
	g.Expect(getCRD(t, crd.Name).Status.StoredVersions).To(Equal([]string{"v2"}))
}

// TestStart: the runnable migrates what it can, keeps retrying a CRD that
// fails (here, one that does not exist) without failing the manager, and
// returns nil when its context ends.
func TestStart(t *testing.T) {
	g := NewWithT(t)
	crd := testCRD(t, "doohickeys", "v1", "v2")
	ensureNamespace(t, "team-a")
	createObject(t, crd, "v1", "team-a", "d")
	setStorage(t, crd, "v2")

	m := &Migrator{Client: k8s, APIReader: k8s, CRDNames: []string{"missing." + testGroup, crd.Name}, MaxRetryDelay: 100 * time.Millisecond}
	g.Expect(m.NeedLeaderElection()).To(BeTrue())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Start(ctx) }()
	g.Eventually(func() []string { return getCRD(t, crd.Name).Status.StoredVersions }).WithTimeout(10 * time.Second).Should(Equal([]string{"v2"}))
	g.Consistently(done).WithTimeout(500 * time.Millisecond).ShouldNot(Receive())
	cancel()
	g.Eventually(done).WithTimeout(5 * time.Second).Should(Receive(BeNil()))
}
