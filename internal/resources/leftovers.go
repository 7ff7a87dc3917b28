package resources

import (
	"regexp"
	"strings"
)

// derivedSuffix ends the names of the databases the operator derives from
// an instance's database: a restore's target (_restore_<h>), the database a
// restore replaced (_pre_restore_<h>), the one a failed upgrade left
// (_failed_<h>).
var derivedSuffix = regexp.MustCompile(`_(restore|pre_restore|failed)_[0-9a-f]{8}$`)

// DerivedDatabaseOf says whether name is one of the databases the operator
// derives from live (RestoreTargetDatabaseName, PreRestoreDatabaseName,
// RestoreDatabaseName, KeptDatabaseName), live shortened to fit included.
func DerivedDatabaseOf(live, name string) bool {
	loc := derivedSuffix.FindStringIndex(name)
	if loc == nil || name == live {
		return false
	}
	base := name[:loc[0]]
	return base == live || (len(name) == postgresMaxName && strings.HasPrefix(live, base))
}
