package datajob

// Images are the images of the data Jobs.
type Images struct {
	Operator string
	// PostgresClient maps the server's major version to a client image.
	PostgresClient func(major int) string
}
