import KarbonetesHTTP
public import KarbonetesTLS

/// The sizes the server accepts; each overrun is answered with its status and a closed
/// connection.
public struct HTTPServerLimits: Sendable, Hashable {
    /// Over it: 414.
    public var requestLineBytes: Int
    /// Over it: 431.
    public var headerBytes: Int
    /// Over it: 413. 7 MiB by default.
    public var bodyBytes: Int

    public init(requestLineBytes: Int = 8 * 1024, headerBytes: Int = 64 * 1024, bodyBytes: Int = 7 * 1024 * 1024) {
        self.requestLineBytes = requestLineBytes
        self.headerBytes = headerBytes
        self.bodyBytes = bodyBytes
    }

    var parserLimits: HTTPParserLimits {
        HTTPParserLimits(requestLineBytes: requestLineBytes, headerBytes: headerBytes, bodyBytes: bodyBytes)
    }
}

/// How long a peer may take, so that a slow or half-open client (slowloris) holds a
/// connection, and its thread, only that long.
public struct HTTPServerTimeouts: Sendable, Hashable {
    /// From the first byte of a request (or the TLS handshake) to its last.
    public var read: Duration
    /// Between requests on a kept-alive connection, and before the first one.
    public var idle: Duration
    /// For the peer to take each part of a response.
    public var write: Duration
    /// After shutdown starts: how long in-flight requests get before connections are cut.
    public var shutdownGrace: Duration

    public init(
        read: Duration = .seconds(30),
        idle: Duration = .seconds(60),
        write: Duration = .seconds(30),
        shutdownGrace: Duration = .seconds(10)
    ) {
        self.read = read
        self.idle = idle
        self.write = write
        self.shutdownGrace = shutdownGrace
    }
}

public struct HTTPServerConfiguration: Sendable, Hashable {
    public var host: String
    /// 0 picks a free port; ``HTTPServer/port`` tells which.
    public var port: Int
    /// HTTPS when set.
    public var tls: TLSServerConfiguration?
    public var limits: HTTPServerLimits
    public var timeouts: HTTPServerTimeouts
    /// Connections over this are closed as soon as they are accepted.
    public var maxConnections: Int

    public init(
        host: String = "0.0.0.0",
        port: Int = 8080,
        tls: TLSServerConfiguration? = nil,
        limits: HTTPServerLimits = HTTPServerLimits(),
        timeouts: HTTPServerTimeouts = HTTPServerTimeouts(),
        maxConnections: Int = 1024
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.limits = limits
        self.timeouts = timeouts
        self.maxConnections = maxConnections
    }
}
