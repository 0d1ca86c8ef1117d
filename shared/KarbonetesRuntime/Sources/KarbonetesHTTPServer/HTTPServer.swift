import Foundation
public import KarbonetesHTTP
public import KarbonetesLifecycle
public import KarbonetesLogging
public import KarbonetesMetrics
import KarbonetesTLS
import Synchronization

/// An HTTP/1.1 server, plain or HTTPS, for the services' APIs, webhooks and metrics.
///
/// Each connection is served by a dedicated I/O thread (never a cooperative one) that reads
/// with deadlines, so a slow peer costs one parked thread for at most its timeout and the
/// connection count is bounded by `maxConnections`. Each parsed request runs its handler in a
/// task whose executor is that same thread (see ``ConnectionExecutor``), and the response is
/// written back from there: no hop to the cooperative pool and back per request.
///
/// Shutdown is task cancellation: the server stops accepting, answers requests already being
/// read or handled with `Connection: close`, ends streamed responses, closes idle connections,
/// and after the grace period cuts what is left. ``run()`` returns once every connection and
/// its handler are done.
public final class HTTPServer: Service, CustomStringConvertible {
    public let configuration: HTTPServerConfiguration
    /// The bound port (the chosen one when the configuration asked for 0).
    public let port: Int

    private let listener: Socket
    private let tls: TLSServerContextProvider?
    private let handler: any HTTPHandler
    private let logger: Logger
    private let metrics: ServerMetrics?
    private let stopPipe = WakePipe()
    private let shutdownSignal = ShutdownSignal()
    private let state = Mutex(State())
    private let hasRun = Atomic<Bool>(false)
    /// Read on every request by every connection thread: an atomic, not the state lock, which
    /// would make them contend.
    private let stopping = Atomic<Bool>(false)

    private struct State {
        var stopping = false
        /// The accept loop plus open connections; the server is done when it reaches 0.
        var workers = 0
        var connections: [ObjectIdentifier: Socket] = [:]
        var finishedWaiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    public init(
        configuration: HTTPServerConfiguration,
        handler: some HTTPHandler,
        logger: Logger = .disabled,
        metrics: MetricsRegistry? = nil
    ) throws {
        ProcessSetup.ignoreSIGPIPE()
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.metrics = metrics.map(ServerMetrics.init)
        self.tls = try configuration.tls.map { try TLSServerContextProvider(configuration: $0, logger: logger) }
        (listener, port) = try Socket.listen(host: configuration.host, port: configuration.port)
    }

    public var description: String { "HTTP server on \(configuration.host):\(port)" }

    /// Serves until the calling task is cancelled, then drains and returns.
    public func run() async throws {
        guard hasRun.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            throw HTTPServerError.alreadyRunning(port: port)
        }
        state.withLock { $0.workers = 1 }
        logger.info(
            "HTTP server listening",
            metadata: ["http.address": "\(configuration.host):\(port)", "http.tls": configuration.tls == nil ? "false" : "true"]
        )
        IOThreadPool.shared.submit { [self] in acceptLoop() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state -> Bool in
                    if state.finished { return true }
                    state.finishedWaiter = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            beginShutdown()
        }
        logger.info("HTTP server stopped", metadata: ["http.address": "\(configuration.host):\(port)"])
    }

    private func beginShutdown() {
        let first = state.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        if first {
            stopping.store(true, ordering: .releasing)
            stopPipe.signal()
            shutdownSignal.fire()
        }
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    private func workerFinished() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.workers -= 1
            guard state.workers == 0 else { return nil }
            state.finished = true
            defer { state.finishedWaiter = nil }
            return state.finishedWaiter
        }
        waiter?.resume()
    }

    // MARK: handler side (async)

    /// Starts the handler task for a request on its connection's thread. An unstructured task
    /// on purpose: it must start on the connection's executor, which a child task of ``run()``
    /// could only reach through a hop to the cooperative pool. Its lifetime is still bounded:
    /// the connection thread runs it to completion before the connection counts as closed, and
    /// ``run()`` returns only after every connection has.
    private func start(_ exchange: Exchange) {
        Task(executorPreference: exchange.executor) {
            await self.respond(to: exchange)
            exchange.finishTask()
        }
    }

    private func respond(to exchange: Exchange) async {
        let started = ContinuousClock.now
        let response = await handler.handle(exchange.request)
        metrics?.observe(method: exchange.request.method, status: response.status, since: started)
        switch response.body {
        case .bytes:
            exchange.send(.complete(response))
        case .stream(let stream):
            exchange.send(.streamHead(response))
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await chunk in stream where !chunk.isEmpty {
                        if !exchange.send(.chunk(chunk)) {
                            // The client is gone. Ending the iteration by cancellation, not by
                            // `break`, is what runs the stream's onCancel / onTermination, so
                            // the producer learns it should stop.
                            withUnsafeCurrentTask { $0?.cancel() }
                        }
                    }
                }
                group.addTask { await exchange.waitUntilGone() }
                group.addTask { await self.shutdownSignal.wait() }
                await group.next()
                group.cancelAll()
            }
            exchange.send(.end)
        }
    }

    // MARK: I/O threads

    private func acceptLoop() {
        while !isStopping {
            switch listener.waitReadable(until: .never, alsoWatching: [stopPipe.readFD]) {
            case .woken, .timedOut:
                continue
            case .readable:
                do {
                    while let socket = try listener.accept() { admit(socket) }
                } catch {
                    logger.warning("accept failed", metadata: ["error": "\(error)"])
                    usleep(10_000)
                }
            }
        }
        listener.shutdown()
        listener.close()
        drainConnections()
        workerFinished()
    }

    private func admit(_ socket: Socket) {
        let admitted = state.withLock { state -> Bool in
            guard !state.stopping, state.connections.count < configuration.maxConnections else { return false }
            state.connections[ObjectIdentifier(socket)] = socket
            state.workers += 1
            return true
        }
        guard admitted else {
            metrics?.refusedConnections.increment()
            logger.debug("connection refused: at maxConnections", metadata: ["http.peer": socket.peer])
            socket.close()
            return
        }
        metrics?.openConnections.increment()
        IOThreadPool.shared.submit { [self] in
            serve(socket)
            state.withLock { _ = $0.connections.removeValue(forKey: ObjectIdentifier(socket)) }
            socket.close()
            metrics?.openConnections.decrement()
            workerFinished()
        }
    }

    /// After the listener closed: waits for connections to finish within the grace period,
    /// then cuts the rest (their threads see the socket shut and exit).
    private func drainConnections() {
        let deadline = Deadline.after(configuration.timeouts.shutdownGrace)
        while !deadline.hasPassed {
            if state.withLock({ $0.connections.isEmpty }) { return }
            usleep(5_000)
        }
        let remaining = state.withLock { Array($0.connections.values) }
        if !remaining.isEmpty {
            logger.warning("shutdown grace period over; closing connections", metadata: ["http.connections": "\(remaining.count)"])
        }
        for socket in remaining { socket.shutdown() }
    }

    private func serve(_ socket: Socket) {
        let timeouts = configuration.timeouts
        let stream: any ByteStream
        if let tls {
            do {
                let connection = try TLSConnection(context: tls.currentContext(), peer: socket.peer)
                let tlsStream = TLSStream(socket: socket, connection: connection)
                try tlsStream.handshake(deadline: .after(timeouts.read))
                stream = tlsStream
            } catch {
                metrics?.tlsHandshakeFailures.increment()
                logger.debug("TLS handshake failed", metadata: ["http.peer": socket.peer, "error": "\(error)"])
                return
            }
        } else {
            stream = PlainStream(socket: socket)
        }
        var connection = ConnectionLoop(
            stream: stream,
            parser: HTTPRequestParser(limits: configuration.limits.parserLimits),
            timeouts: timeouts,
            stopFD: stopPipe.readFD,
            isStopping: { [self] in isStopping },
            start: { [self] exchange in start(exchange) },
            logger: logger
        )
        connection.run()
        stream.close(deadline: .after(.milliseconds(100)))
    }
}

/// The server's error, naming its port.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case alreadyRunning
    }

    private let kind: Kind
    private let port: Int

    public static func alreadyRunning(port: Int) -> HTTPServerError { HTTPServerError(kind: .alreadyRunning, port: port) }

    public var description: String {
        switch kind {
        case .alreadyRunning: "HTTP server on port \(port): run() called twice"
        }
    }
}

/// The server's metrics, registered once.
struct ServerMetrics: Sendable {
    let requests: Counter
    let duration: Histogram
    let openConnections: Gauge
    let refusedConnections: Counter
    let tlsHandshakeFailures: Counter

    init(registry: MetricsRegistry) {
        requests = registry.counter("http_server_requests_total", help: "HTTP requests answered, by method and status code.", labelNames: ["method", "code"])
        duration = registry.histogram(
            "http_server_request_duration_seconds",
            help: "Time from a parsed request to the handler's response.",
            labelNames: [],
            buckets: Histogram.defaultBuckets
        )
        openConnections = registry.gauge("http_server_open_connections", help: "Connections currently open.")
        refusedConnections = registry.counter("http_server_refused_connections_total", help: "Connections closed at accept because maxConnections were open.")
        tlsHandshakeFailures = registry.counter("http_server_tls_handshake_failures_total", help: "TLS handshakes that failed or timed out.")
    }

    /// Methods outside this set are counted as `other`, so a client cannot create series at will.
    private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func observe(method: HTTPMethod, status: HTTPStatus, since started: ContinuousClock.Instant) {
        let methodLabel = Self.knownMethods.contains(method.rawValue) ? method.rawValue : "other"
        requests.increment(labels: ["method": methodLabel, "code": String(status.code)])
        let elapsed = ContinuousClock.now - started
        duration.observe(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
