package dbtools_test

import (
	"os"
	"testing"

	"github.com/odoo-operator/odoo-operator/internal/dbtools/dbtoolstest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dbtoolstest.CloseServer()
	os.Exit(code)
}
