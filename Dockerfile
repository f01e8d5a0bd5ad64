# Multi-stage build of the service. Name-agnostic: the binary is always /app/app (from
# cmd/app), so a renamed service (kratos new, make new, gonew) builds unchanged.
#   docker build -t order-service .
#   docker run -p 8000:8000 order-service           # embedded broker, SQLite and its store in /data/db
FROM golang:1.26 AS builder
WORKDIR /src
# Dependencies first, so code changes do not re-download them.
# (the library module in rocketmq/ is required through a replace directive: its go.mod too)
COPY go.mod go.sum ./
COPY rocketmq/go.mod rocketmq/go.sum ./rocketmq/
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=${VERSION}" -o /out/app ./cmd/app
# The runtime state directory, owned by the final image's user (distroless nonroot is uid
# 65532): a volume mounted at /data/db starts with this owner, so SQLite can create its
# file there. distroless has no shell to mkdir/chown in its own stage.
RUN mkdir -p /out/data/db

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=builder --chown=65532:65532 /out/data /data
WORKDIR /data
COPY --from=builder /out/app /app/app
COPY configs /data/conf
# HTTP API, gRPC API
EXPOSE 8000 9000
# Runtime state (SQLite file, the embedded broker's store) lives under /data/db.
ENV APP_DATA_DATABASE_SOURCE=/data/db/app.db \
    APP_DATA_ROCKETMQ_EMBEDDED_DATA_DIR=/data/db/rocketmq
USER 65532:65532
VOLUME /data/db
ENTRYPOINT ["/app/app", "-conf", "/data/conf"]
