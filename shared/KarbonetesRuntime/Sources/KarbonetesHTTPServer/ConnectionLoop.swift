import Foundation
import KarbonetesHTTP
import KarbonetesLogging
import KarbonetesTLS

/// Serves one connection on its I/O thread: reads with the idle or read deadline, parses,
/// hands each request to async code through an ``Exchange`` and writes the answer back.
struct ConnectionLoop {
    let stream: any ByteStream
    var parser: HTTPRequestParser
    let timeouts: HTTPServerTimeouts
    let stopFD: Int32
    let isStopping: () -> Bool
    let start: (Exchange) -> Void
    let logger: Logger

    private var scratch = [UInt8](repeating: 0, count: 32 * 1024)
    private let executor = ConnectionExecutor()
    private var stopSeen = false
    private var requestDeadline: Deadline?

    init(
        stream: any ByteStream,
        parser: HTTPRequestParser,
        timeouts: HTTPServerTimeouts,
        stopFD: Int32,
        isStopping: @escaping () -> Bool,
        start: @escaping (Exchange) -> Void,
        logger: Logger
    ) {
        self.stream = stream
        self.parser = parser
        self.timeouts = timeouts
        self.stopFD = stopFD
        self.isStopping = isStopping
        self.start = start
        self.logger = logger
    }

    mutating func run() {
        while true {
            let event: HTTPRequestParser.Event
            do {
                event = try parser.next()
            } catch let error as HTTPParseError {
                logger.debug("rejected request", metadata: ["http.peer": stream.socket.peer, "error": error.description])
                writeError(error.status, message: error.description)
                return
            } catch {
                return
            }
            switch event {
            case .request(var request):
                requestDeadline = nil
                request.remoteAddress = stream.socket.peer
                let keepAlive = request.wantsKeepAlive && !isStopping()
                guard serve(request, keepAlive: keepAlive) else { return }
            case .continueExpected:
                guard write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), what: "100 Continue") else { return }
            case .needMoreData:
                guard readMore() else { return }
            }
        }
    }

    // MARK: reading

    private mutating func readMore() -> Bool {
        let midRequest = parser.isMidRequest
        if !midRequest { requestDeadline = nil }
        if midRequest && requestDeadline == nil { requestDeadline = .after(timeouts.read) }
        if !stopSeen && isStopping() { stopSeen = true }
        // Draining: an idle connection is closed; one in the middle of a request is finished.
        if stopSeen && !midRequest { return false }
        let deadline = requestDeadline ?? .after(timeouts.idle)
        if !stream.hasBufferedInput {
            waiting: while true {
                switch stream.socket.waitReadable(until: deadline, alsoWatching: stopSeen ? [] : [stopFD]) {
                case .readable:
                    break waiting
                case .woken:
                    stopSeen = true
                    if !midRequest { return false }
                case .timedOut:
                    if midRequest { writeError(.requestTimeout, message: "request not received within the read timeout") }
                    return false
                }
            }
        }
        let count: Int
        do {
            count = try scratch.withUnsafeMutableBytes { [stream] in try stream.read(into: $0, deadline: deadline) }
        } catch let error as SocketError where error.kind == .timedOut {
            if midRequest { writeError(.requestTimeout, message: "request not received within the read timeout") }
            return false
        } catch {
            logger.debug("read failed", metadata: ["http.peer": stream.socket.peer, "error": "\(error)"])
            return false
        }
        guard count > 0 else { return false }
        scratch.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        if requestDeadline == nil && parser.isMidRequest { requestDeadline = .after(timeouts.read) }
        return true
    }

    // MARK: writing

    /// Serves one request; false when the connection must close afterwards.
    private mutating func serve(_ request: HTTPRequest, keepAlive: Bool) -> Bool {
        let exchange = Exchange(request: request, executor: executor)
        start(exchange)
        defer { exchange.runUntilTaskFinished() }
        switch exchange.receive() {
        case .complete(let response):
            let close = !keepAlive || response.headers.hasToken("close", in: "Connection") || isStopping()
            guard case .bytes(let body) = response.body else { return false }
            let sendsBody = response.status.allowsBody
            var bytes = HTTPSerialization.responseHead(
                status: response.status,
                headers: response.headers,
                contentLength: sendsBody ? body.count : nil,
                chunked: false,
                close: close,
                keepAliveHeader: request.version == .http10
            )
            if sendsBody && request.method != .head { bytes.append(contentsOf: body) }
            return write(bytes, what: "response") && !close
        case .streamHead(let response):
            return stream(response, for: request, exchange: exchange, keepAlive: keepAlive)
        case .chunk, .end:
            return false
        }
    }

    private mutating func stream(_ response: HTTPResponse, for request: HTTPRequest, exchange: Exchange, keepAlive: Bool) -> Bool {
        let chunked = request.version == .http11
        var close = !keepAlive || !chunked || response.headers.hasToken("close", in: "Connection")
        let head = HTTPSerialization.responseHead(
            status: response.status,
            headers: response.headers,
            contentLength: nil,
            chunked: chunked,
            close: close
        )
        guard write(head, what: "response head") else {
            exchange.markGone()
            return false
        }
        if request.method == .head || !response.status.allowsBody {
            exchange.markGone()
            return !close
        }
        let wake = WakePipe()
        executor.condition.lock()
        executor.wakePipe = wake
        executor.condition.unlock()
        defer {
            executor.condition.lock()
            executor.wakePipe = nil
            executor.condition.unlock()
        }
        while true {
            while let message = exchange.poll() {
                switch message {
                case .chunk(let data):
                    guard write(chunked ? HTTPSerialization.chunk(data) : Array(data), what: "response chunk") else {
                        exchange.markGone()
                        return false
                    }
                case .end:
                    if chunked && !write(HTTPSerialization.lastChunk, what: "last chunk") { return false }
                    close = close || isStopping()
                    return !close
                case .complete, .streamHead:
                    exchange.markGone()
                    return false
                }
            }
            switch stream.socket.waitReadable(until: .never, alsoWatching: [wake.readFD]) {
            case .woken, .timedOut:
                wake.drain()
            case .readable:
                // The client sent more (a pipelined request) or went away.
                let count = (try? scratch.withUnsafeMutableBytes { [stream, timeouts] in
                    try stream.read(into: $0, deadline: .after(timeouts.read))
                }) ?? 0
                guard count > 0, parser.bufferedByteCount < 1 << 20 else {
                    exchange.markGone()
                    return false
                }
                scratch.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            }
        }
    }

    private func write(_ bytes: [UInt8], what: String) -> Bool {
        do {
            try stream.write(bytes, deadline: .after(timeouts.write))
            return true
        } catch {
            logger.debug("write failed", metadata: ["http.peer": stream.socket.peer, "http.write": what, "error": "\(error)"])
            return false
        }
    }

    private func writeError(_ status: HTTPStatus, message: String) {
        let body = Array((message + "\n").utf8)
        var bytes = HTTPSerialization.responseHead(
            status: status,
            headers: ["Content-Type": "text/plain; charset=utf-8"],
            contentLength: body.count,
            chunked: false,
            close: true
        )
        bytes.append(contentsOf: body)
        if write(bytes, what: "error response") { stream.closeAfterError() }
    }
}
