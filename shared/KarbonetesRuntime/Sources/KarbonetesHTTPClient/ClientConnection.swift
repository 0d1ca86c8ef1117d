import Foundation
import KarbonetesHTTP
import KarbonetesTLS
import Synchronization

/// One connection to the server, used by one I/O thread at a time (the pool hands it over).
final class ClientConnection: @unchecked Sendable {
    let stream: any ByteStream
    let server: String
    private var parser = HTTPResponseParser()
    private var scratch = [UInt8](repeating: 0, count: 32 * 1024)
    private(set) var requestSent = false

    init(stream: any ByteStream, server: String) {
        self.stream = stream
        self.server = server
    }

    var responseStarted: Bool { parser.hasStarted }

    /// Still open and not sent anything unasked (a server closing an idle connection makes it
    /// readable).
    var isUsable: Bool { !stream.hasBufferedInput && !stream.socket.isReadableNow }

    func send(_ head: [UInt8], body: Data?, deadline: Deadline) throws {
        requestSent = false
        var bytes = head
        if let body, body.count <= 64 * 1024 {
            bytes.append(contentsOf: body)
            try stream.write(bytes, deadline: deadline)
        } else {
            try stream.write(bytes, deadline: deadline)
            if let body {
                try body.withUnsafeBytes { try stream.write($0, deadline: deadline) }
            }
        }
        requestSent = true
    }

    func readHead(to method: HTTPMethod, deadline: Deadline) throws -> HTTPResponseHead {
        parser.expectResponse(to: method)
        while true {
            switch try nextEvent(deadline: deadline) {
            case .head(let head): return head
            case .body, .end, .needMoreData: throw HTTPParseError.malformed("body before head", message: "response")
            }
        }
    }

    /// The whole response, and whether the connection can carry another request.
    func readResponse(to method: HTTPMethod, deadline: Deadline, maxBody: Int) throws -> (HTTPClientResponse, Bool) {
        let head = try readHead(to: method, deadline: deadline)
        var body = Data()
        while true {
            switch try nextEvent(deadline: deadline) {
            case .body(let piece):
                body.append(piece)
                if body.count > maxBody { throw HTTPClientError.responseTooLarge(server, limit: maxBody) }
            case .end:
                let reusable = head.keepAlive && !endedByClose && parser.bufferedByteCount == 0
                return (HTTPClientResponse(status: head.status.code, headers: head.headers, body: body), reusable)
            case .head, .needMoreData:
                throw HTTPParseError.malformed("unexpected head", message: "response")
            }
        }
    }

    private var endedByClose = false

    /// The next head, body piece or end, reading from the socket as needed.
    func nextEvent(deadline: Deadline) throws -> HTTPResponseParser.Event {
        while true {
            let event = try parser.next()
            if case .needMoreData = event {
                let count = try scratch.withUnsafeMutableBytes { [stream] in try stream.read(into: $0, deadline: deadline) }
                if count == 0 {
                    endedByClose = true
                    return try parser.finishOnEOF()
                }
                scratch.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                continue
            }
            return event
        }
    }

    func close() { stream.close(deadline: .after(.milliseconds(100))) }
}

/// Reads a streamed body on an I/O thread and yields it line by line, waiting while the
/// consumer's buffer is full so that memory stays bounded.
final class LineReader: Sendable {
    private let connection: ClientConnection
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation
    private let maxLineLength: Int
    private let server: String
    private let cancelled = Atomic<Bool>(false)
    /// Guards the socket against a shutdown after the reader closed it (the descriptor could
    /// already belong to another connection).
    private let closed = Mutex(false)

    init(
        connection: ClientConnection,
        continuation: AsyncThrowingStream<Data, any Error>.Continuation,
        maxLineLength: Int,
        server: String
    ) {
        self.connection = connection
        self.continuation = continuation
        self.maxLineLength = maxLineLength
        self.server = server
    }

    /// Called when the consumer stops: wakes the reading thread, which then closes.
    func cancel() {
        cancelled.store(true, ordering: .releasing)
        closed.withLock { isClosed in
            if !isClosed { connection.stream.socket.shutdown() }
        }
    }

    private var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    func run() {
        var splitter = LineSplitter(maxLineLength: maxLineLength)
        defer {
            closed.withLock { isClosed in
                isClosed = true
                connection.close()
            }
        }
        do {
            while !isCancelled {
                switch try connection.nextEvent(deadline: .never) {
                case .body(let piece):
                    let lines: [Data]
                    do {
                        lines = try splitter.append(piece)
                    } catch {
                        throw HTTPClientError.lineTooLong(server, limit: maxLineLength)
                    }
                    for line in lines where !deliver(line) { return }
                    if splitter.overflowed { throw HTTPClientError.lineTooLong(server, limit: maxLineLength) }
                case .end:
                    if let last = splitter.finish() { _ = deliver(last) }
                    continuation.finish()
                    return
                case .head, .needMoreData:
                    continue
                }
            }
        } catch {
            if isCancelled {
                continuation.finish()
            } else if error is HTTPClientError {
                continuation.finish(throwing: error)
            } else {
                continuation.finish(throwing: HTTPClientError.connectionClosed(server, reason: "\(error)"))
            }
        }
    }

    /// False once the consumer is gone.
    private func deliver(_ line: Data) -> Bool {
        while !isCancelled {
            switch continuation.yield(line) {
            case .enqueued: return true
            case .terminated: return false
            case .dropped: usleep(1_000)
            @unknown default: return false
            }
        }
        return false
    }
}

/// The `Authorization` value, fixed or read from a token file that is re-read when it changes.
enum TokenSource: Sendable {
    case fixed(String)
    case file(TokenFile)

    func value() throws -> String {
        switch self {
        case .fixed(let value): value
        case .file(let file): "Bearer " + (try file.current())
        }
    }
}

final class TokenFile: Sendable {
    private struct Cached: Sendable {
        var fingerprint: [Int]
        var token: String
    }

    let path: String
    private let cache = Mutex<Cached?>(nil)

    init(path: String) { self.path = path }

    struct Unreadable: Error, CustomStringConvertible {
        let path: String
        var description: String { "cannot read the token file \(path)" }
    }

    /// The token, re-read when the file's inode, size or modification time changed.
    func current() throws -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw Unreadable(path: path) }
        let fingerprint = [Int(info.st_ino), Int(info.st_size), info.st_mtim.tv_sec, info.st_mtim.tv_nsec]
        if let cached = cache.withLock({ $0 }), cached.fingerprint == fingerprint { return cached.token }
        guard let data = FileManager.default.contents(atPath: path) else { throw Unreadable(path: path) }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        cache.withLock { $0 = Cached(fingerprint: fingerprint, token: token) }
        return token
    }
}
