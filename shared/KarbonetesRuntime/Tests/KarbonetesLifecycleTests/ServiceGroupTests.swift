import Foundation
import KarbonetesLifecycle
import KarbonetesLogging
import Synchronization
import Testing

/// Runs until cancelled, then records that it drained.
struct DrainingService: Service, CustomStringConvertible {
    let name: String
    let drained: Mutex<[String]>.Shared

    var description: String { name }

    func run() async throws {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(30))
        }
        drained.append(name)
    }
}

/// Fails, or returns, after a short while.
struct FailingService: Service, CustomStringConvertible {
    struct Boom: Error, CustomStringConvertible {
        var description: String { "boom" }
    }

    let name: String
    let throwsError: Bool

    var description: String { name }

    func run() async throws {
        try await Task.sleep(for: .milliseconds(20))
        if throwsError { throw Boom() }
    }
}

extension Mutex where Value == [String] {
    /// A reference to a list the services and the test both see.
    final class Shared: Sendable {
        private let storage = Mutex<[String]>([])
        func append(_ value: String) { storage.withLock { $0.append(value) } }
        var values: [String] { storage.withLock { $0 } }
    }
}

@Suite("Service group")
struct ServiceGroupTests {
    @Test("a shutdown signal cancels every service, and run returns once they all drained")
    func signalDrainsAll() async throws {
        let drained = Mutex<[String]>.Shared()
        let (signals, trigger) = AsyncStream.makeStream(of: UnixSignal.self)
        let sink = InMemoryLogSink()
        let group = ServiceGroup(
            services: [
                DrainingService(name: "webhook", drained: drained), DrainingService(name: "metrics", drained: drained),
            ],
            shutdownSignals: signals,
            logger: Logger(label: "test", sink: sink)
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await Task.sleep(for: .milliseconds(50))
            #expect(drained.values.isEmpty)
            trigger.yield(.sigterm)
            try await tasks.waitForAll()
        }
        #expect(drained.values.sorted() == ["metrics", "webhook"])
        #expect(sink.records.contains { $0.message.contains("SIGTERM") && $0.metadata["signal"] == "SIGTERM" })
    }

    struct FailureCase: Sendable, CustomTestStringConvertible {
        var throwsError: Bool
        var wantDescription: String
        var testDescription: String { throwsError ? "a service throws" : "a service returns early" }
    }

    @Test(
        "a failing service cancels the others and run throws an error naming it",
        arguments: [
            FailureCase(throwsError: true, wantDescription: "service signal-poller failed: boom"),
            FailureCase(
                throwsError: false,
                wantDescription: "service signal-poller returned before shutdown was requested"
            ),
        ]
    )
    func failureStopsTheRest(_ testCase: FailureCase) async throws {
        let drained = Mutex<[String]>.Shared()
        let (signals, _) = AsyncStream.makeStream(of: UnixSignal.self)
        let group = ServiceGroup(
            services: [
                DrainingService(name: "server", drained: drained),
                FailingService(name: "signal-poller", throwsError: testCase.throwsError),
            ],
            shutdownSignals: signals,
            logger: .disabled
        )
        let error = await #expect(throws: ServiceGroupError.self) { try await group.run() }
        #expect(error?.service == "signal-poller")
        #expect(error?.description == testCase.wantDescription)
        #expect((error?.underlyingError is FailingService.Boom) == testCase.throwsError)
        #expect(drained.values == ["server"])
    }

    @Test("cancelling the task that runs the group is a graceful shutdown")
    func parentCancellation() async throws {
        let drained = Mutex<[String]>.Shared()
        let (signals, _) = AsyncStream.makeStream(of: UnixSignal.self)
        let group = ServiceGroup(
            services: [DrainingService(name: "a", drained: drained)],
            shutdownSignals: signals,
            logger: .disabled
        )
        let running = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(30))
        running.cancel()
        try await running.value
        #expect(drained.values == ["a"])
    }

    @Test("a service without a description is named by its type")
    func namedByType() async {
        struct QuitsAtOnce: Service {
            func run() async throws {}
        }
        let (signals, _) = AsyncStream.makeStream(of: UnixSignal.self)
        let group = ServiceGroup(services: [QuitsAtOnce()], shutdownSignals: signals, logger: .disabled)
        let error = await #expect(throws: ServiceGroupError.self) { try await group.run() }
        #expect(error?.service == "QuitsAtOnce")
    }
}

@Suite("Unix signals and process setup", .serialized)
struct UnixSignalTests {
    @Test("a signal sent to the process arrives on the UnixSignals sequence instead of killing it")
    func realSignalArrives() async throws {
        let received = try await withThrowingTaskGroup(of: UnixSignal?.self) { tasks in
            let ready = AsyncStream.makeStream(of: Void.self)
            tasks.addTask {
                var iterator = UnixSignals([.sigusr2]).makeAsyncIterator()
                ready.continuation.yield()
                return await iterator.next()
            }
            tasks.addTask {
                try await Task.sleep(for: .seconds(5))
                return nil
            }
            for await _ in ready.stream { break }
            // Sent until it arrives: the first one may come before the source is armed.
            let sender = Task {
                while !Task.isCancelled {
                    kill(getpid(), SIGUSR2)
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            defer { sender.cancel() }
            let first = try await tasks.next() ?? nil
            tasks.cancelAll()
            return first
        }
        #expect(received == .sigusr2)
    }

    @Test("after ignoreSIGPIPE, writing to a closed pipe fails with EPIPE instead of killing the process")
    func sigpipeIgnored() {
        ProcessSetup.ignoreSIGPIPE()
        ProcessSetup.ignoreSIGPIPE()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        var byte: UInt8 = 1
        let written = write(fds[1], &byte, 1)
        let failure = errno
        close(fds[1])
        #expect(written == -1)
        #expect(failure == EPIPE)
    }

    @Test("ServiceMain exits 0 after SIGTERM drains the services")
    func mainExitsZeroOnSIGTERM() async {
        await #expect(processExitsWith: .exitCode(0)) {
            struct WaitsForCancellation: Service {
                func run() async throws {
                    while !Task.isCancelled { try? await Task.sleep(for: .seconds(10)) }
                }
            }
            let group = ServiceGroup(services: [WaitsForCancellation()], logger: .disabled)
            // Sends SIGTERM only once the group has taken it over (its disposition is no longer
            // the default, which would kill the process), then again until the process exits,
            // in case the first one came before the dispatch source was armed.
            let killer = Thread {
                while SignalDisposition.isDefault(SIGTERM) { Thread.sleep(forTimeInterval: 0.01) }
                while true {
                    kill(getpid(), SIGTERM)
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
            killer.start()
            await ServiceMain.run(group, logger: .disabled)
        }
    }

    @Test("ServiceMain exits 1 and logs the failing service when one fails")
    func mainExitsOneOnFailure() async throws {
        let result = try await #require(
            processExitsWith: .exitCode(1),
            observing: [\.standardErrorContent]
        ) {
            struct Broken: Service, CustomStringConvertible {
                struct Failure: Error, CustomStringConvertible { var description: String { "port in use" } }
                var description: String { "metrics-server" }
                func run() async throws { throw Failure() }
            }
            let group = ServiceGroup(services: [Broken()], logger: .disabled)
            await ServiceMain.run(group, logger: Logger(label: "main"))
        }
        let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("service metrics-server failed: port in use"))
        #expect(stderr.contains("\"level\":\"critical\""))
    }
}

enum SignalDisposition {
    /// Whether `signal` still has its default action.
    static func isDefault(_ signal: Int32) -> Bool {
        var current = sigaction()
        sigaction(signal, nil, &current)
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
            == unsafeBitCast(SIG_DFL, to: Int.self)
    }
}
