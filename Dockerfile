# Multi-stage build of the service. Name-agnostic: the binary is always /app/app (from
# cmd/app), so a renamed service (kratos new, make new, gonew) builds unchanged.
#   docker build -t order-service .
#   docker run -p 8000:8000 order-service           # embedded broker, SQLite in /data
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

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /data
COPY --from=builder /out/app /app/app
COPY configs /data/conf
# HTTP API, gRPC API
EXPOSE 8000 9000
# Runtime state (SQLite file, embedded broker store) lives under /data.
ENV APP_DATA_DATABASE_SOURCE=/data/db/app.db
VOLUME /data/db
ENTRYPOINT ["/app/app", "-conf", "/data/conf"]
