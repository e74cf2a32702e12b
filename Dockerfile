# The sioload image that the Kubernetes manifests run (deploy/kubernetes/,
# "sioload k8s"): make image, or docker build -t siokit/sioload .
#
# Two stages: the Go toolchain builds a static binary (CGO_ENABLED=0: no
# libc to match), and the image holds nothing else but distroless/static's
# CA certificates, time zones and its non-root user (65532, the pods'
# runAsUser). No shell: the merge Job's wait step runs in busybox.
FROM golang:1.26 AS build
WORKDIR /src
# The modules first, so that a change of the source reuses their layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/sioload ./cmd/sioload

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sioload /usr/local/bin/sioload
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/sioload"]
