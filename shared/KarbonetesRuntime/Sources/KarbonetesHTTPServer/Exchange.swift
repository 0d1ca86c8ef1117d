import Foundation
import KarbonetesHTTP
import KarbonetesTLS
import Synchronization

/// One request handed from a connection thread to async code, and the way back for its
/// response: the connection thread blocks on ``receive()`` (it is a dedicated thread, never a
/// cooperative one) while the handler's task sends.
final class Exchange: @unchecked Sendable {
    enum Message {
        case complete(HTTPResponse)
        case streamHead(HTTPResponse)
        case chunk(Data)
        case end
    }

    let request: HTTPRequest
    private let condition = NSCondition()
    private var messages: [Message] = []
    private var queuedBytes = 0
    private var gone = false
    private var goneWaiter: CheckedContinuation<Void, Never>?
    private var stopWaiting = false
    /// Signalled on each message while a stream is being sent, so that the connection thread
    /// can wait for a chunk and for the client going away at once.
    private(set) var wakePipe: WakePipe?

    /// Queued stream bytes over this mean the client does not keep up: it is dropped rather than
    /// buffered without bound.
    static let maxQueuedBytes = 8 * 1024 * 1024

    init(request: HTTPRequest) { self.request = request }

    func enableWakePipe(_ pipe: WakePipe) {
        condition.lock()
        wakePipe = pipe
        condition.unlock()
    }

    // MARK: async side

    /// False once the client is gone; the sender should stop.
    @discardableResult
    func send(_ message: Message) -> Bool {
        condition.lock()
        if gone {
            condition.unlock()
            return false
        }
        if case .chunk(let data) = message {
            queuedBytes += data.count
            if queuedBytes > Self.maxQueuedBytes {
                condition.unlock()
                markGone()
                return false
            }
        }
        messages.append(message)
        let pipe = wakePipe
        condition.signal()
        condition.unlock()
        pipe?.signal()
        return true
    }

    /// Returns when the client went away, or when the caller's task is cancelled.
    func waitUntilGone() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                condition.lock()
                if gone || stopWaiting {
                    condition.unlock()
                    continuation.resume()
                    return
                }
                goneWaiter = continuation
                condition.unlock()
            }
        } onCancel: {
            condition.lock()
            stopWaiting = true
            let waiter = goneWaiter
            goneWaiter = nil
            condition.unlock()
            waiter?.resume()
        }
    }

    // MARK: connection side

    var isGone: Bool {
        condition.lock()
        defer { condition.unlock() }
        return gone
    }

    func markGone() {
        condition.lock()
        gone = true
        let waiter = goneWaiter
        goneWaiter = nil
        condition.signal()
        condition.unlock()
        waiter?.resume()
    }

    /// Blocks the connection thread until the next message.
    func receive() -> Message {
        condition.lock()
        while messages.isEmpty { condition.wait() }
        let message = messages.removeFirst()
        if case .chunk(let data) = message { queuedBytes -= data.count }
        condition.unlock()
        return message
    }

    /// The next message if one is queued.
    func poll() -> Message? {
        condition.lock()
        defer { condition.unlock() }
        guard !messages.isEmpty else { return nil }
        let message = messages.removeFirst()
        if case .chunk(let data) = message { queuedBytes -= data.count }
        return message
    }
}

/// Exchanges waiting for a handler task. Unlike an `AsyncStream`, waiting here ignores task
/// cancellation, so requests read during a graceful drain are still answered.
final class ExchangeQueue: Sendable {
    private struct State {
        var items: [Exchange] = []
        var waiter: CheckedContinuation<[Exchange]?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    func push(_ exchange: Exchange) {
        let waiter = state.withLock { state -> CheckedContinuation<[Exchange]?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.items.append(exchange)
            return nil
        }
        waiter?.resume(returning: [exchange])
    }

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[Exchange]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.items.isEmpty ? state.waiter : nil
        }
        waiter?.resume(returning: nil)
    }

    /// Every queued exchange at once (fewer wake-ups under load), or nil once finished.
    func next() async -> [Exchange]? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [Exchange]?? in
                if !state.items.isEmpty {
                    defer { state.items.removeAll(keepingCapacity: true) }
                    return .some(state.items)
                }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
