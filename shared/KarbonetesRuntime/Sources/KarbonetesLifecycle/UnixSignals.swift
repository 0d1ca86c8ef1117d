import Dispatch
import Foundation
import Synchronization

/// A Unix signal a service reacts to.
public struct UnixSignal: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    private let name: String

    private init(_ rawValue: Int32, name: String) {
        self.rawValue = rawValue
        self.name = name
    }

    /// What Kubernetes sends when it stops a pod.
    public static let sigterm = UnixSignal(SIGTERM, name: "SIGTERM")
    /// Control-C at a terminal.
    public static let sigint = UnixSignal(SIGINT, name: "SIGINT")
    /// Conventionally "reload your configuration".
    public static let sighup = UnixSignal(SIGHUP, name: "SIGHUP")
    /// Free for a program's own use; the tests use it so as not to touch SIGTERM.
    public static let sigusr1 = UnixSignal(SIGUSR1, name: "SIGUSR1")
    /// Free for a program's own use.
    public static let sigusr2 = UnixSignal(SIGUSR2, name: "SIGUSR2")

    public var description: String { name }
}

/// The signals a process receives, as an `AsyncSequence`, so that async code can wait for
/// SIGTERM with `for await` instead of installing a C signal handler.
///
/// Iterating installs a `DispatchSource` per signal and sets the signal's default action to
/// "ignore" (otherwise the default action, termination, would run before the source sees it);
/// the disposition is left ignored after the iteration ends, so that a second SIGTERM during
/// shutdown does not kill the process half-way through draining.
public struct UnixSignals: AsyncSequence, Sendable {
    public typealias Element = UnixSignal

    private let signals: [UnixSignal]

    public init(_ signals: [UnixSignal]) {
        self.signals = signals
    }

    public func makeAsyncIterator() -> AsyncStream<UnixSignal>.Iterator {
        makeStream().makeAsyncIterator()
    }

    /// The signals as a stream whose termination cancels the dispatch sources.
    func makeStream() -> AsyncStream<UnixSignal> {
        let (stream, continuation) = AsyncStream.makeStream(of: UnixSignal.self)
        let queue = DispatchQueue(label: "karbonetes.unix-signals")
        let sources = SignalSources()
        for unixSignal in Set(signals) {
            signal(unixSignal.rawValue, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: unixSignal.rawValue, queue: queue)
            source.setEventHandler { continuation.yield(unixSignal) }
            source.resume()
            sources.add(source)
        }
        continuation.onTermination = { _ in sources.cancelAll() }
        return stream
    }
}

/// Keeps the dispatch sources alive for as long as the stream is iterated.
private final class SignalSources: Sendable {
    /// Dispatch sources are thread-safe objects, but swift-corelibs-libdispatch does not mark
    /// them `Sendable`; this wrapper says so for the one operation used across threads, cancel.
    private struct ArmedSource: @unchecked Sendable {
        let source: any DispatchSourceSignal
    }

    private let sources = Mutex<[ArmedSource]>([])

    func add(_ source: any DispatchSourceSignal) {
        sources.withLock { $0.append(ArmedSource(source: source)) }
    }

    func cancelAll() {
        let all = sources.withLock { sources in
            defer { sources = [] }
            return sources
        }
        for armed in all { armed.source.cancel() }
    }
}
