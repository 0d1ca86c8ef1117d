import Foundation

/// Reads a start line and header fields line by line out of a ``ByteBuffer``, consuming each
/// line as it completes, so that a peer sending one byte at a time costs linear work and the
/// limits are checked before the bytes pile up.
struct MessageHeadReader: Sendable {
    let startLineLimit: Int
    let headerBytesLimit: Int
    let message: String
    /// What a start line too long is reported as: 414 for requests, 431-style for responses.
    let startLineError: HTTPParseError

    private(set) var startLine: [UInt8]?
    private(set) var headers = HTTPHeaders()
    private var headerBytes = 0

    init(startLineLimit: Int, headerBytesLimit: Int, message: String, startLineError: HTTPParseError) {
        self.startLineLimit = startLineLimit
        self.headerBytesLimit = headerBytesLimit
        self.message = message
        self.startLineError = startLineError
    }

    /// True once the empty line that ends the head has been consumed.
    mutating func read(from buffer: inout ByteBuffer) throws -> Bool {
        while true {
            guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else {
                if startLine == nil {
                    if buffer.count > startLineLimit { throw startLineError }
                } else if headerBytes + buffer.count > headerBytesLimit {
                    throw HTTPParseError.headersTooLarge(limit: headerBytesLimit, message: message)
                }
                return false
            }
            var end = newline
            if end > 0 && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let line = buffer.peek(0..<end)
            buffer.consume(newline + 1)
            if startLine == nil {
                if line.isEmpty && headerBytes < 4 {
                    // A stray CRLF before the request line, which RFC 9112 asks servers to skip.
                    headerBytes += 1
                    continue
                }
                if line.count > startLineLimit { throw startLineError }
                startLine = Array(line)
                headerBytes = 0
                continue
            }
            headerBytes += newline + 1
            if headerBytes > headerBytesLimit {
                throw HTTPParseError.headersTooLarge(limit: headerBytesLimit, message: message)
            }
            if line.isEmpty { return true }
            try parseField(line)
        }
    }

    private mutating func parseField(_ line: ArraySlice<UInt8>) throws {
        guard let first = line.first, first != UInt8(ascii: " "), first != UInt8(ascii: "\t") else {
            throw HTTPParseError.malformed("folded or empty header line", message: message)
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw HTTPParseError.malformed("header line without a colon", message: message)
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            throw HTTPParseError.malformed("invalid header name", message: message)
        }
        var value = line[(colon + 1)...]
        while let head = value.first, head == UInt8(ascii: " ") || head == UInt8(ascii: "\t") { value.removeFirst() }
        while let tail = value.last, tail == UInt8(ascii: " ") || tail == UInt8(ascii: "\t") { value.removeLast() }
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == UInt8(ascii: "\t") }) else {
            throw HTTPParseError.malformed("control character in header \(String(decoding: name, as: UTF8.self))", message: message)
        }
        headers.add(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// How the body is framed, from `Transfer-Encoding` and `Content-Length`, refusing the
    /// ambiguous combinations that make request smuggling possible.
    func bodyFraming() throws -> BodyFraming {
        let codings = headers.values(for: "Transfer-Encoding")
        let lengths = headers.values(for: "Content-Length")
        if !codings.isEmpty {
            if !lengths.isEmpty {
                throw HTTPParseError.malformed("both Transfer-Encoding and Content-Length", message: message)
            }
            let list = codings.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
            guard list == ["chunked"] else {
                throw HTTPParseError.unsupportedTransferEncoding(list.joined(separator: ", "), message: message)
            }
            return .chunked
        }
        if lengths.isEmpty { return .none }
        let values = Set(lengths.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map { String($0.trimmingSpaces()) })
        guard values.count == 1, let text = values.first, !text.isEmpty, text.utf8.count <= 18,
            text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let length = Int(text)
        else {
            throw HTTPParseError.malformed("invalid Content-Length", message: message)
        }
        return .length(length)
    }
}

enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

/// Decodes `Transfer-Encoding: chunked` incrementally out of a ``ByteBuffer``.
struct ChunkedDecoder: Sendable {
    private enum State: Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers(bytes: Int)
        case done
    }

    private var state = State.size
    let lineLimit: Int
    let trailerLimit: Int
    let message: String

    init(lineLimit: Int = 4096, trailerLimit: Int, message: String) {
        self.lineLimit = lineLimit
        self.trailerLimit = trailerLimit
        self.message = message
    }

    var isDone: Bool { if case .done = state { true } else { false } }

    /// Consumes what it can, passing each piece of chunk data to `sink`; true once the last
    /// chunk and the trailers are consumed.
    mutating func decode(from buffer: inout ByteBuffer, sink: (Data) throws -> Void) throws -> Bool {
        while true {
            switch state {
            case .size:
                guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else {
                    if buffer.count > lineLimit { throw HTTPParseError.malformed("chunk size line too long", message: message) }
                    return false
                }
                var end = newline
                if end > 0 && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = buffer.peek(0..<end)
                let digits = line.prefix { $0 != UInt8(ascii: ";") }.drop { $0 == UInt8(ascii: " ") }
                var size = 0
                var seen = 0
                for byte in digits {
                    if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { break }
                    guard let value = hexValue(byte), seen < 15 else {
                        throw HTTPParseError.malformed("invalid chunk size", message: message)
                    }
                    size = size << 4 | Int(value)
                    seen += 1
                }
                guard seen > 0 else { throw HTTPParseError.malformed("invalid chunk size", message: message) }
                buffer.consume(newline + 1)
                state = size == 0 ? .trailers(bytes: 0) : .data(remaining: size)
            case .data(let remaining):
                let available = min(remaining, buffer.count)
                if available == 0 { return false }
                try sink(buffer.readData(available))
                state = remaining == available ? .dataEnd : .data(remaining: remaining - available)
            case .dataEnd:
                guard buffer.count >= 1 else { return false }
                if buffer[0] == UInt8(ascii: "\r") {
                    guard buffer.count >= 2 else { return false }
                    guard buffer[1] == UInt8(ascii: "\n") else {
                        throw HTTPParseError.malformed("chunk data not followed by CRLF", message: message)
                    }
                    buffer.consume(2)
                } else if buffer[0] == UInt8(ascii: "\n") {
                    buffer.consume(1)
                } else {
                    throw HTTPParseError.malformed("chunk data not followed by CRLF", message: message)
                }
                state = .size
            case .trailers(let bytes):
                guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else {
                    if bytes + buffer.count > trailerLimit { throw HTTPParseError.headersTooLarge(limit: trailerLimit, message: message) }
                    return false
                }
                let isEmpty = newline == 0 || (newline == 1 && buffer[0] == UInt8(ascii: "\r"))
                buffer.consume(newline + 1)
                if isEmpty {
                    state = .done
                    return true
                }
                if bytes + newline + 1 > trailerLimit { throw HTTPParseError.headersTooLarge(limit: trailerLimit, message: message) }
                state = .trailers(bytes: bytes + newline + 1)
            case .done:
                return true
            }
        }
    }
}

@inline(__always) func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
        UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
        UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        true
    default:
        false
    }
}
