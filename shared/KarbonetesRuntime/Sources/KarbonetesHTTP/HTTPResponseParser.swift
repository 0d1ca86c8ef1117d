public import Foundation

/// The status line and headers of a response, before (or without) its body.
public struct HTTPResponseHead: Sendable {
    public var version: HTTPVersion
    public var status: HTTPStatus
    public var headers: HTTPHeaders

    /// Whether the connection may carry another request after this response.
    public var keepAlive: Bool {
        if headers.hasToken("close", in: "Connection") { return false }
        if version == .http10 { return headers.hasToken("keep-alive", in: "Connection") }
        return true
    }
}

/// Parses responses from bytes for the client: the head first, then the body in pieces as they
/// arrive, so that a watch is read as a stream while an ordinary response is collected whole.
///
/// Call ``expectResponse(to:)`` before each response, since a response to `HEAD` has no body.
public struct HTTPResponseParser: Sendable {
    public enum Event: Sendable {
        case needMoreData
        case head(HTTPResponseHead)
        /// A piece of the body (already de-chunked).
        case body(Data)
        /// The response is complete; the next one may follow on the same connection.
        case end
    }

    private enum State: Sendable {
        case head(MessageHeadReader)
        case body(framing: Framing)
        case idle
        case failed(HTTPParseError)
    }

    private enum Framing: Sendable {
        case length(remaining: Int)
        case chunked(ChunkedDecoder)
        case untilClose
    }

    public let headerBytesLimit: Int
    private var buffer = ByteBuffer()
    private var state = State.idle
    private var requestMethod = HTTPMethod.get

    public init(headerBytesLimit: Int = 1024 * 1024) {
        self.headerBytesLimit = headerBytesLimit
    }

    public mutating func expectResponse(to method: HTTPMethod) {
        requestMethod = method
        state = .head(newHeadReader())
    }

    private func newHeadReader() -> MessageHeadReader {
        MessageHeadReader(
            startLineLimit: 8 * 1024,
            headerBytesLimit: headerBytesLimit,
            message: "response",
            startLineError: .malformed("status line too long", message: "response")
        )
    }

    public mutating func append(_ data: Data) { buffer.append(data) }
    public mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer.append(bytes) }
    public mutating func append(_ bytes: [UInt8]) { buffer.append(bytes) }

    /// Bytes already received past the current position (for a body read until close).
    public var bufferedByteCount: Int { buffer.count }

    /// True once any byte of the response has been parsed; a client only retries a request on a
    /// fresh connection when nothing of the response arrived.
    public var hasStarted: Bool {
        switch state {
        case .head(let reader): return reader.startLine != nil || !buffer.isEmpty
        case .idle: return false
        default: return true
        }
    }

    public mutating func next() throws -> Event {
        do {
            return try step()
        } catch let error as HTTPParseError {
            state = .failed(error)
            throw error
        }
    }

    /// The peer closed the connection: ends a body delimited by the close, or reports a
    /// truncated response.
    public mutating func finishOnEOF() throws -> Event {
        switch state {
        case .body(.untilClose):
            state = .idle
            return .end
        case .failed(let error):
            throw error
        default:
            state = .failed(.truncated(message: "response"))
            throw HTTPParseError.truncated(message: "response")
        }
    }

    private mutating func step() throws -> Event {
        switch state {
        case .idle:
            return .needMoreData
        case .failed(let error):
            throw error
        case .head(var reader):
            guard try reader.read(from: &buffer) else {
                state = .head(reader)
                return .needMoreData
            }
            let head = try Self.parseStatusLine(reader.startLine ?? [], headers: reader.headers)
            if (100..<200).contains(head.status.code) {
                // An interim response (100 Continue): skip it and read the final one.
                state = .head(newHeadReader())
                return try step()
            }
            if requestMethod == .head || !head.status.allowsBody {
                state = .body(framing: .length(remaining: 0))
            } else {
                switch try reader.bodyFraming() {
                case .none: state = .body(framing: .untilClose)
                case .length(let length): state = .body(framing: .length(remaining: length))
                case .chunked:
                    state = .body(framing: .chunked(ChunkedDecoder(trailerLimit: headerBytesLimit, message: "response")))
                }
            }
            return .head(head)
        case .body(let framing):
            switch framing {
            case .length(let remaining):
                if remaining == 0 {
                    state = .idle
                    return .end
                }
                guard !buffer.isEmpty else { return .needMoreData }
                let take = min(remaining, buffer.count)
                let data = buffer.readData(take)
                state = .body(framing: .length(remaining: remaining - take))
                return .body(data)
            case .chunked(var decoder):
                var collected = Data()
                let done = try decoder.decode(from: &buffer) { collected.append($0) }
                state = done ? .idle : .body(framing: .chunked(decoder))
                if !collected.isEmpty {
                    if done { state = .body(framing: .length(remaining: 0)) }
                    return .body(collected)
                }
                return done ? .end : .needMoreData
            case .untilClose:
                guard !buffer.isEmpty else { return .needMoreData }
                return .body(buffer.readAll())
            }
        }
    }

    static func parseStatusLine(_ line: [UInt8], headers: HTTPHeaders) throws -> HTTPResponseHead {
        let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2 else { throw HTTPParseError.malformed("invalid status line", message: "response") }
        let version: HTTPVersion
        switch String(decoding: parts[0], as: UTF8.self) {
        case "HTTP/1.1": version = .http11
        case "HTTP/1.0": version = .http10
        case let other: throw HTTPParseError.unsupportedVersion(other, message: "response")
        }
        guard parts[1].count == 3, let code = Int(String(decoding: parts[1], as: UTF8.self)), code >= 100 else {
            throw HTTPParseError.malformed("invalid status code", message: "response")
        }
        let reason = parts.count == 3 ? String(decoding: parts[2], as: UTF8.self) : ""
        return HTTPResponseHead(version: version, status: HTTPStatus(code: code, reasonPhrase: reason), headers: headers)
    }
}
