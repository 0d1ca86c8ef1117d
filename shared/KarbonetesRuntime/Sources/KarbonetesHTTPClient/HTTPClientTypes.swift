public import Foundation
public import KarbonetesHTTP
public import KarbonetesTLS

/// How the client proves who it is on each request.
public enum HTTPAuthorization: Sendable, Hashable {
    case bearerToken(String)
    /// Read before each request when the file changed (projected service-account tokens are
    /// rotated in place by the kubelet).
    case bearerTokenFile(String)
    case basic(username: String, password: String)
}

public struct HTTPClientConfiguration: Sendable {
    /// Scheme, host and port of every request, and a path prefix when it has one.
    public var baseURL: URL
    /// For `https` URLs; nil there means the system's trust roots.
    public var tls: TLSClientConfiguration?
    public var authorization: HTTPAuthorization?
    public var connectTimeout: Duration
    /// For the whole of an ordinary request, and until the head of a streamed one.
    public var requestTimeout: Duration
    /// Kept-alive connections kept for reuse.
    public var maxIdleConnections: Int
    public var userAgent: String
    /// A streamed line longer than this fails the stream instead of growing a buffer without
    /// bound. 16 MiB by default, above the largest object etcd stores.
    public var maxLineLength: Int
    /// A response body larger than this fails the request.
    public var maxResponseBodyBytes: Int

    public init(
        baseURL: URL,
        tls: TLSClientConfiguration? = nil,
        authorization: HTTPAuthorization? = nil,
        connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(30),
        maxIdleConnections: Int = 8,
        userAgent: String = "karbonetes",
        maxLineLength: Int = 16 * 1024 * 1024,
        maxResponseBodyBytes: Int = 256 * 1024 * 1024
    ) {
        self.baseURL = baseURL
        self.tls = tls
        self.authorization = authorization
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxIdleConnections = maxIdleConnections
        self.userAgent = userAgent
        self.maxLineLength = maxLineLength
        self.maxResponseBodyBytes = maxResponseBodyBytes
    }
}

public struct HTTPClientRequest: Sendable {
    public var method: HTTPMethod
    /// Unescaped (`/apis/batch/v1/namespaces/default/jobs`); the client escapes it.
    public var path: String
    /// Escaped by the client.
    public var query: [(name: String, value: String)]
    public var headers: HTTPHeaders
    public var body: Data?
    /// Overrides the configuration's request timeout.
    public var timeout: Duration?

    public init(
        method: HTTPMethod = .get,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: HTTPHeaders = HTTPHeaders(),
        body: Data? = nil,
        timeout: Duration? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: Int, headers: HTTPHeaders, body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A response whose body is read as it arrives, one line at a time, for watches.
public struct HTTPStreamingResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// One element per line without its newline. A line may span chunks and a chunk may hold
    /// many lines; a last line without a newline is still delivered. Ending the iteration
    /// (leaving the loop, or cancelling the task) closes the connection. A line over the
    /// configured cap ends the stream with an error.
    public var lines: HTTPLineSequence

    /// Closes the connection now; an iteration in progress ends.
    public func cancel() { lines.cancel() }
}

/// The lines of a streamed body. Its own type rather than an `AsyncThrowingStream`, because a
/// stream cannot tell that its consumer left the loop while the stream value is still alive;
/// this iterator can, so the watch's connection closes as soon as the loop ends.
public struct HTTPLineSequence: AsyncSequence, Sendable {
    public typealias Element = Data
    public typealias Failure = any Error

    let base: AsyncThrowingStream<Data, any Error>
    let cancel: @Sendable () -> Void
    /// Closes the connection when the response is dropped without being iterated.
    let releasedUnread: StopOnRelease

    init(base: AsyncThrowingStream<Data, any Error>, cancel: @escaping @Sendable () -> Void) {
        self.base = base
        self.cancel = cancel
        self.releasedUnread = StopOnRelease(cancel)
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), stop: StopOnRelease(cancel))
    }

    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Data, any Error>.AsyncIterator
        let stop: StopOnRelease

        public mutating func next() async throws -> Data? { try await base.next() }
    }
}

/// Runs its action when the iterator or sequence holding it goes away.
final class StopOnRelease: Sendable {
    private let action: @Sendable () -> Void

    init(_ action: @escaping @Sendable () -> Void) { self.action = action }

    deinit { action() }
}

/// A request that failed, naming the host and port it was for.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case connectFailed(String)
        case timedOut(String)
        case tlsHandshakeFailed(String)
        case malformedResponse(String)
        case connectionClosed(String)
        case invalidRequest(String)
        case lineTooLong(Int)
        case responseTooLarge(Int)
        case credentials(String)
        case shutDown
    }

    private let kind: Kind
    /// `host:port` of the server.
    public let server: String

    private init(_ kind: Kind, server: String) {
        self.kind = kind
        self.server = server
    }

    public static func connectFailed(_ server: String, reason: String) -> HTTPClientError { .init(.connectFailed(reason), server: server) }
    public static func timedOut(_ server: String, during step: String) -> HTTPClientError { .init(.timedOut(step), server: server) }
    public static func tlsHandshakeFailed(_ server: String, reason: String) -> HTTPClientError {
        .init(.tlsHandshakeFailed(reason), server: server)
    }
    public static func malformedResponse(_ server: String, reason: String) -> HTTPClientError {
        .init(.malformedResponse(reason), server: server)
    }
    public static func connectionClosed(_ server: String, reason: String) -> HTTPClientError {
        .init(.connectionClosed(reason), server: server)
    }
    public static func invalidRequest(_ server: String, reason: String) -> HTTPClientError { .init(.invalidRequest(reason), server: server) }
    public static func lineTooLong(_ server: String, limit: Int) -> HTTPClientError { .init(.lineTooLong(limit), server: server) }
    public static func responseTooLarge(_ server: String, limit: Int) -> HTTPClientError { .init(.responseTooLarge(limit), server: server) }
    public static func credentials(_ server: String, reason: String) -> HTTPClientError { .init(.credentials(reason), server: server) }
    public static func shutDown(_ server: String) -> HTTPClientError { .init(.shutDown, server: server) }

    public var isTimeout: Bool { if case .timedOut = kind { true } else { false } }
    public var isTLSHandshakeFailure: Bool { if case .tlsHandshakeFailed = kind { true } else { false } }
    public var isConnectFailure: Bool { if case .connectFailed = kind { true } else { false } }

    public var description: String {
        switch kind {
        case .connectFailed(let reason): "HTTP client: cannot connect to \(server): \(reason)"
        case .timedOut(let step): "HTTP client: \(step) with \(server) timed out"
        case .tlsHandshakeFailed(let reason): "HTTP client: TLS handshake with \(server) failed: \(reason)"
        case .malformedResponse(let reason): "HTTP client: malformed response from \(server): \(reason)"
        case .connectionClosed(let reason): "HTTP client: connection to \(server) closed: \(reason)"
        case .invalidRequest(let reason): "HTTP client: invalid request for \(server): \(reason)"
        case .lineTooLong(let limit): "HTTP client: a streamed line from \(server) is longer than \(limit) bytes"
        case .responseTooLarge(let limit): "HTTP client: response from \(server) is larger than \(limit) bytes"
        case .credentials(let reason): "HTTP client: credentials for \(server): \(reason)"
        case .shutDown: "HTTP client for \(server) is shut down"
        }
    }
}
