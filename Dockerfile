# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .git is not in the build context (.dockerignore): pass what 'lrs version'
# should say, e.g. --build-arg VERSION=v1.2.0 --build-arg REVISION=$(git rev-parse HEAD).
ARG VERSION=""
ARG REVISION=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/lrs ./cmd/lrs

FROM alpine:3.20
# The embedded store lives in /var/lib/lrs, owned by the runtime user. A named
# volume takes this ownership on first use; a bind-mounted host folder must be
# writable by uid 10001.
RUN adduser -D -H -u 10001 lrs \
 && mkdir -p /var/lib/lrs \
 && chown lrs:lrs /var/lib/lrs \
 && chmod 0750 /var/lib/lrs
COPY --from=build /out/lrs /usr/local/bin/lrs
USER lrs
WORKDIR /var/lib/lrs
ENV LRS_DATA_DIR=/var/lib/lrs
VOLUME /var/lib/lrs
EXPOSE 8080
ENTRYPOINT ["lrs"]
CMD ["serve"]
