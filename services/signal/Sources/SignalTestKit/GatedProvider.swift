public import Foundation
public import SignalCore
import Synchronization

/// A provider whose fetches wait until the test opens the gate, so a test can pile up
/// concurrent requests behind one fetch.
public final class GatedProvider: CarbonProvider {
    private let state = Mutex<(calls: Int, open: Bool, waiting: [CheckedContinuation<Void, Never>])>((0, false, []))
    private let answer: ScriptedProvider

    public init(intensity: Double) { answer = ScriptedProvider(.answer(intensity: intensity, green: false)) }

    public var kind: String { "gated" }

    public var calls: Int { state.withLock { $0.calls } }

    /// Lets every waiting and future fetch finish.
    public func open() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    public func fetch(now: Date) async throws -> ProviderSnapshot {
        await withCheckedContinuation { continuation in
            let proceed = state.withLock { state -> Bool in
                state.calls += 1
                if state.open { return true }
                state.waiting.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
        return try await answer.fetch(now: now)
    }
}
