public import KarbonetesLogging

/// Runs a process's services together, and stops them together.
///
/// Each service runs in a child task of one task group. The first graceful-shutdown signal
/// cancels every service (they drain and return); a service that throws, or returns while the
/// others still run, cancels the rest, and ``run()`` throws a ``ServiceGroupError`` naming it,
/// so that the process exits non-zero instead of limping on without, say, its webhook server.
public struct ServiceGroup: Sendable {
    private let services: [any Service]
    private let makeSignals: @Sendable () -> AsyncStream<UnixSignal>
    private let logger: Logger

    /// A group that shuts down on real Unix signals.
    public init(
        services: [any Service],
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        logger: Logger
    ) {
        self.services = services
        self.makeSignals = { UnixSignals(gracefulShutdownSignals).makeStream() }
        self.logger = logger
    }

    /// A group that shuts down when `shutdownSignals` yields, for tests that must not send
    /// signals to their own process. The stream is consumed by one ``run()``.
    public init(services: [any Service], shutdownSignals: AsyncStream<UnixSignal>, logger: Logger) {
        self.services = services
        self.makeSignals = { shutdownSignals }
        self.logger = logger
    }

    private enum ChildResult: Sendable {
        case serviceReturned(index: Int)
        case serviceThrew(index: Int, any Error)
        case signal(UnixSignal)
        case signalsEnded
    }

    /// Runs until every service has returned. Returns normally after a graceful shutdown (a
    /// signal, or the cancellation of the calling task) in which every service returned or
    /// threw `CancellationError`.
    public func run() async throws {
        let signals = makeSignals()
        let services = self.services
        let logger = self.logger
        logger.info("starting services", metadata: ["services": services.map(\.serviceName).joined(separator: ",")])

        let failure = await withTaskGroup(of: ChildResult.self, returning: ServiceGroupError?.self) { group in
            for (index, service) in services.enumerated() {
                group.addTask {
                    do {
                        try await service.run()
                        return .serviceReturned(index: index)
                    } catch {
                        return .serviceThrew(index: index, error)
                    }
                }
            }
            group.addTask {
                for await signal in signals { return .signal(signal) }
                return .signalsEnded
            }

            var shuttingDown = false
            var firstFailure: ServiceGroupError?
            var running = services.count

            func beginShutdown() {
                shuttingDown = true
                group.cancelAll()
            }

            while running > 0, let result = await group.next() {
                switch result {
                case .signal(let signal):
                    logger.notice("received \(signal), shutting down", metadata: ["signal": signal.description])
                    beginShutdown()
                case .signalsEnded:
                    // No more signals can arrive; the services keep running.
                    continue
                case .serviceReturned(let index):
                    running -= 1
                    let name = services[index].serviceName
                    if shuttingDown || Task.isCancelled {
                        logger.info("service stopped", metadata: ["service": name])
                    } else {
                        logger.error("service returned before shutdown", metadata: ["service": name])
                        firstFailure = firstFailure ?? .finishedEarly(service: name)
                        beginShutdown()
                    }
                case .serviceThrew(let index, let error):
                    running -= 1
                    let name = services[index].serviceName
                    if error is CancellationError, shuttingDown || Task.isCancelled {
                        logger.info("service stopped", metadata: ["service": name])
                    } else {
                        logger.error("service failed", metadata: ["service": name, "error": "\(error)"])
                        firstFailure = firstFailure ?? .failed(service: name, error: error)
                        beginShutdown()
                    }
                }
            }
            // Only the signal listener can be left; it ends once cancelled.
            group.cancelAll()
            return firstFailure
        }
        if let failure { throw failure }
    }
}

/// Why a ``ServiceGroup`` stopped: the service that failed first, and how.
public struct ServiceGroupError: Error, CustomStringConvertible {
    private enum Kind {
        case failed(any Error)
        case finishedEarly
    }

    private let kind: Kind
    /// The name of the service that failed.
    public let service: String

    private init(_ kind: Kind, service: String) {
        self.kind = kind
        self.service = service
    }

    static func failed(service: String, error: any Error) -> ServiceGroupError {
        ServiceGroupError(.failed(error), service: service)
    }

    static func finishedEarly(service: String) -> ServiceGroupError {
        ServiceGroupError(.finishedEarly, service: service)
    }

    /// The error the service threw, or nil if it returned before the group was shut down.
    public var underlyingError: (any Error)? {
        if case .failed(let error) = kind { return error }
        return nil
    }

    public var description: String {
        switch kind {
        case .failed(let error): "service \(service) failed: \(error)"
        case .finishedEarly: "service \(service) returned before shutdown was requested"
        }
    }
}
