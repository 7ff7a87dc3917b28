package odooinstance

import "testing"

func TestWrittenVersions(t *testing.T) {
	var w writtenVersions
	if w.behind("a", "10") {
		t.Fatal("an instance never written is behind")
	}
	w.wrote("a", "10")
	if !w.behind("a", "10") {
		t.Fatal("the copy the operator wrote over is not seen as behind")
	}
	if !w.behind("a", "10") {
		t.Fatal("the mark is dropped before the cache caught up")
	}
	if w.behind("b", "10") {
		t.Fatal("another instance is behind")
	}
	if w.behind("a", "11") {
		t.Fatal("a newer copy is behind")
	}
	if w.behind("a", "10") {
		t.Fatal("the mark survived the cache catching up")
	}
	w.wrote("a", "12")
	w.forget("a")
	if w.behind("a", "12") {
		t.Fatal("a forgotten instance is behind")
	}
}
