public import Foundation

/// The sizes a server accepts before it refuses a request.
public struct HTTPParserLimits: Sendable, Hashable {
    /// The request line (method, target, version); over it the server answers 414.
    public var requestLineBytes: Int
    /// All header lines together; over it the server answers 431.
    public var headerBytes: Int
    /// The decoded body; over it the server answers 413. 7 MiB by default, above the 3 MiB an
    /// admission review can reach.
    public var bodyBytes: Int

    public init(requestLineBytes: Int = 8 * 1024, headerBytes: Int = 64 * 1024, bodyBytes: Int = 7 * 1024 * 1024) {
        self.requestLineBytes = requestLineBytes
        self.headerBytes = headerBytes
        self.bodyBytes = bodyBytes
    }
}

/// Parses HTTP/1.1 requests from bytes: a value-type state machine with no socket inside, fed
/// with ``append(_:)-swift.method`` and asked for the ``next()`` event, so that it is tested with
/// bytes alone and the server decides what to write.
///
/// After an error the parser stays failed: a server answers the error's status and closes.
public struct HTTPRequestParser: Sendable {
    public enum Event: Sendable {
        /// Nothing complete yet: read more bytes.
        case needMoreData
        /// The head asked for `Expect: 100-continue` and the body has not arrived: the server
        /// should write `100 Continue`. Reported once per request.
        case continueExpected
        case request(HTTPRequest)
    }

    private enum State: Sendable {
        case head(MessageHeadReader)
        case body(Head, framing: BodyFraming, body: Data, chunked: ChunkedDecoder?)
        case failed(HTTPParseError)
    }

    struct Head: Sendable {
        var method: HTTPMethod
        var target: String
        var version: HTTPVersion
        var headers: HTTPHeaders
    }

    public let limits: HTTPParserLimits
    private var buffer = ByteBuffer()
    private var state: State
    private var continueSent = false

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
        self.state = .head(Self.headReader(limits))
    }

    private static func headReader(_ limits: HTTPParserLimits) -> MessageHeadReader {
        MessageHeadReader(
            startLineLimit: limits.requestLineBytes,
            headerBytesLimit: limits.headerBytes,
            message: "request",
            startLineError: .requestLineTooLong(limit: limits.requestLineBytes)
        )
    }

    public mutating func append(_ data: Data) { buffer.append(data) }
    public mutating func append(_ bytes: UnsafeRawBufferPointer) { buffer.append(bytes) }
    public mutating func append(_ bytes: [UInt8]) { buffer.append(bytes) }

    /// True while part of a request has arrived: a connection closed now was cut off mid-request,
    /// and a server draining for shutdown keeps reading instead of closing.
    public var isMidRequest: Bool {
        switch state {
        case .head(let reader): return reader.startLine != nil || !buffer.isEmpty
        case .body: return true
        case .failed: return false
        }
    }

    /// Bytes received but not yet parsed (pipelined requests), for tests and limits.
    public var bufferedByteCount: Int { buffer.count }

    public mutating func next() throws -> Event {
        do {
            return try step()
        } catch let error as HTTPParseError {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step() throws -> Event {
        switch state {
        case .failed(let error):
            throw error
        case .head(var reader):
            let complete = try reader.read(from: &buffer)
            guard complete else {
                state = .head(reader)
                return .needMoreData
            }
            let head = try Self.parseRequestLine(reader.startLine ?? [], headers: reader.headers)
            let framing = try reader.bodyFraming()
            if case .length(let length) = framing, length > limits.bodyBytes {
                throw HTTPParseError.bodyTooLarge(limit: limits.bodyBytes)
            }
            let chunked = framing == .chunked ? ChunkedDecoder(trailerLimit: limits.headerBytes, message: "request") : nil
            state = .body(head, framing: framing, body: Data(), chunked: chunked)
            continueSent = false
            return try step()
        case .body(let head, let framing, var body, var chunked):
            let complete: Bool
            switch framing {
            case .none:
                complete = true
            case .length(let length):
                if buffer.count >= length {
                    body = buffer.readData(length)
                    complete = true
                } else {
                    complete = false
                }
            case .chunked:
                let limit = limits.bodyBytes
                complete = try chunked!.decode(from: &buffer) { piece in
                    if body.count + piece.count > limit { throw HTTPParseError.bodyTooLarge(limit: limit) }
                    body.append(piece)
                }
            }
            guard complete else {
                state = .body(head, framing: framing, body: body, chunked: chunked)
                if !continueSent, head.version == .http11, body.isEmpty,
                    head.headers["Expect"]?.caseInsensitiveEquals("100-continue") == true
                {
                    continueSent = true
                    return .continueExpected
                }
                return .needMoreData
            }
            state = .head(Self.headReader(limits))
            return .request(
                HTTPRequest(method: head.method, target: head.target, headers: head.headers, body: body, version: head.version)
            )
        }
    }

    static func parseRequestLine(_ line: [UInt8], headers: HTTPHeaders) throws -> Head {
        let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw HTTPParseError.malformed("request line is not METHOD TARGET VERSION") }
        let method = parts[0]
        let target = parts[1]
        let version = parts[2]
        guard !method.isEmpty, method.allSatisfy(isTokenByte) else { throw HTTPParseError.malformed("invalid method") }
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
            throw HTTPParseError.malformed("invalid request target")
        }
        guard let first = target.first, first == UInt8(ascii: "/") || first == UInt8(ascii: "*") || target.starts(with: Array("http".utf8)) else {
            throw HTTPParseError.malformed("request target is not a path")
        }
        let parsedVersion: HTTPVersion
        switch String(decoding: version, as: UTF8.self) {
        case "HTTP/1.1": parsedVersion = .http11
        case "HTTP/1.0": parsedVersion = .http10
        case let other where other.hasPrefix("HTTP/") && other.utf8.count == 8:
            throw HTTPParseError.unsupportedVersion(other)
        default:
            throw HTTPParseError.malformed("invalid protocol version")
        }
        if parsedVersion == .http11 && !headers.contains("Host") {
            throw HTTPParseError.malformed("HTTP/1.1 request without Host")
        }
        return Head(
            method: HTTPMethod(String(decoding: method, as: UTF8.self)),
            target: String(decoding: target, as: UTF8.self),
            version: parsedVersion,
            headers: headers
        )
    }
}
