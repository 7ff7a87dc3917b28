# Build the operator image (on a machine with a container engine):
#   docker build -t <registry>/odoo-operator:<tag> .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/odoo-operator ./cmd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/odoo-operator /odoo-operator
USER 65532:65532
ENTRYPOINT ["/odoo-operator"]
