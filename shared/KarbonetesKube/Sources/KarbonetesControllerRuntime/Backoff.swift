/// Exponential backoff with jitter for reconnecting to the API server, so that many replicas
/// that lost the server at once do not come back in lockstep.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var factor: Double
    /// Each delay is stretched by a random share up to this (0 = none, for tests).
    public var jitter: Double
    private var current: Duration?

    /// client-go's reflector backoff: 800 ms doubling up to 30 s.
    public init(initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30), factor: Double = 2, jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
    }

    /// The delay before the next attempt.
    public mutating func next() -> Duration {
        let base = current.map { min(maximum, $0 * factor) } ?? initial
        current = base
        guard jitter > 0 else { return base }
        return base * (1 + Double.random(in: 0...jitter))
    }

    /// After a success: the next failure waits `initial` again.
    public mutating func reset() { current = nil }
}
