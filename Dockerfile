# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/lrs ./cmd/lrs

FROM alpine:3.20
RUN adduser -D -H lrs
COPY --from=build /out/lrs /usr/local/bin/lrs
USER lrs
EXPOSE 8080
ENTRYPOINT ["lrs"]
CMD ["serve"]
