public import Foundation

/// A request as a handler sees it: the whole body already read (the server caps its size), so
/// handlers are plain functions of a value.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request target exactly as it arrived (`/apis/batch/v1/jobs?watch=1`).
    public var target: String
    /// The target without its query, not percent-decoded, so that `%2F` stays distinguishable
    /// from a path separator.
    public var path: String
    /// The query's `name=value` pairs, percent-decoded (`+` as a space), in order.
    public var queryItems: [(name: String, value: String)]
    public var headers: HTTPHeaders
    public var body: Data
    /// The peer's address as `host:port`, for logs; nil for requests made in memory.
    public var remoteAddress: String?
    /// `HTTP/1.0` or `HTTP/1.1`, which decides whether the connection is kept alive by default.
    public var version: HTTPVersion

    public init(
        method: HTTPMethod,
        target: String,
        headers: HTTPHeaders = HTTPHeaders(),
        body: Data = Data(),
        remoteAddress: String? = nil,
        version: HTTPVersion = .http11
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.version = version
        if let question = target.firstIndex(of: "?") {
            self.path = String(target[..<question])
            self.queryItems = HTTPRequest.parseQuery(target[target.index(after: question)...])
        } else {
            self.path = target
            self.queryItems = []
        }
    }

    /// The first value of the query parameter `name`, or nil.
    public func query(_ name: String) -> String? { queryItems.first { $0.name == name }?.value }

    /// Whether the peer asked to keep the connection open after this request.
    public var wantsKeepAlive: Bool {
        if headers.hasToken("close", in: "Connection") { return false }
        if version == .http10 { return headers.hasToken("keep-alive", in: "Connection") }
        return true
    }

    static func parseQuery(_ query: Substring) -> [(name: String, value: String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: "=") {
                return (
                    name: percentDecode(pair[..<equals]),
                    value: percentDecode(pair[pair.index(after: equals)...])
                )
            }
            return (name: percentDecode(pair), value: "")
        }
    }

    /// Decodes `%XX` and `+`; a malformed escape is kept as it is rather than failing the request.
    static func percentDecode(_ text: Substring) -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(text) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The protocol version of a message; only the two HTTP/1 versions are spoken.
public enum HTTPVersion: String, Sendable, Hashable {
    case http10 = "HTTP/1.0"
    case http11 = "HTTP/1.1"
}

/// A response body: bytes known up front (sent with `Content-Length`), or a stream sent with
/// chunked encoding for as long as it yields, which is what long-lived watches need.
public enum HTTPBody: Sendable {
    case bytes(Data)
    /// Sent chunked. The server stops iterating (so the stream's `onTermination` runs) when the
    /// client goes away or the server shuts down.
    case stream(AsyncStream<Data>)

    public static var empty: HTTPBody { .bytes(Data()) }
}

public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: HTTPBody

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: HTTPBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Encodes `value` with sorted keys, so that responses are stable to compare in tests; an
    /// encoding failure becomes a 500 rather than a crash.
    public static func json(_ value: some Encodable, status: HTTPStatus = .ok, encoder: JSONEncoder? = nil) -> HTTPResponse {
        let encoder = encoder ?? {
            let made = JSONEncoder()
            made.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return made
        }()
        do {
            let data = try encoder.encode(value)
            return HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: .bytes(data))
        } catch {
            return .text("response encoding failed: \(error)\n", status: .internalServerError)
        }
    }

    /// Raw JSON bytes a handler already has (an echo, a forwarded document).
    public static func jsonData(_ data: Data, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: .bytes(data))
    }

    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: ["Content-Type": "text/plain; charset=utf-8"],
            body: .bytes(Data(text.utf8))
        )
    }

    public static func empty(status: HTTPStatus = .noContent) -> HTTPResponse {
        HTTPResponse(status: status)
    }
}

/// What the server calls for each request. Async, so a handler may call the Kubernetes API or
/// wait for a signal; the server never runs it on its I/O threads.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest) async -> HTTPResponse
}

/// A handler made from a closure.
public struct ClosureHTTPHandler: HTTPHandler {
    private let body: @Sendable (HTTPRequest) async -> HTTPResponse

    public init(_ body: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) { self.body = body }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse { await body(request) }
}

@inline(__always) func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
