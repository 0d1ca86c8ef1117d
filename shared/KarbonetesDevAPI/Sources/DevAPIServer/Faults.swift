import Foundation
import KarbonetesModels
import Synchronization

/// One fault rule for the requests on one resource (`jobs`, `leases`, or `*` for all), so
/// that tests can exercise a client's retry, resume and re-list paths.
public struct FaultRule: Sendable, Codable, Hashable {
    /// The plural resource name, or `*`.
    public var resource: String
    /// The share of requests (0…1) answered with `errorCode` instead of being served.
    public var errorRate: Double?
    /// 409, 429 (with `Retry-After: 1`), 500 or 503.
    public var errorCode: Int?
    /// Added before every request is served.
    public var latencyMilliseconds: Int?
    /// Every open watch of the resource is ended once it is this old.
    public var dropWatchesEverySeconds: Double?

    public init(resource: String, errorRate: Double? = nil, errorCode: Int? = nil, latencyMilliseconds: Int? = nil, dropWatchesEverySeconds: Double? = nil) {
        self.resource = resource
        self.errorRate = errorRate
        self.errorCode = errorCode
        self.latencyMilliseconds = latencyMilliseconds
        self.dropWatchesEverySeconds = dropWatchesEverySeconds
    }
}

/// The body of `GET`/`PUT /devapi/faults`.
public struct FaultConfiguration: Sendable, Codable, Hashable {
    public var rules: [FaultRule]

    public init(rules: [FaultRule] = []) { self.rules = rules }
}

/// What the injector decided for one request.
struct FaultDecision: Sendable {
    var latency: Duration?
    var errorCode: Int?
}

/// The fault rules in force, changed at run time through the admin endpoint.
public final class FaultInjector: Sendable {
    private let configuration = Mutex(FaultConfiguration())
    private let injectedCount = Atomic<Int>(0)

    public init(_ initial: FaultConfiguration = FaultConfiguration()) {
        configuration.withLock { $0 = initial }
    }

    public var current: FaultConfiguration { configuration.withLock { $0 } }

    public func replace(with new: FaultConfiguration) { configuration.withLock { $0 = new } }

    /// How many requests have been answered with an injected error.
    public var injectedErrors: Int { injectedCount.load(ordering: .relaxed) }

    func decide(resource: String) -> FaultDecision {
        let rules = configuration.withLock { $0.rules.filter { $0.resource == resource || $0.resource == "*" } }
        var decision = FaultDecision()
        for rule in rules {
            if let milliseconds = rule.latencyMilliseconds, milliseconds > 0 {
                decision.latency = (decision.latency ?? .zero) + .milliseconds(milliseconds)
            }
            if decision.errorCode == nil, let rate = rule.errorRate, let code = rule.errorCode, Double.random(in: 0..<1) < rate {
                decision.errorCode = code
                injectedCount.add(1, ordering: .relaxed)
            }
        }
        return decision
    }

    /// The maximum watch age per resource plural, for the ticker.
    var watchLifetimes: [String: Duration] {
        configuration.withLock { configuration in
            var result: [String: Duration] = [:]
            for rule in configuration.rules {
                if let seconds = rule.dropWatchesEverySeconds, seconds > 0 { result[rule.resource] = .milliseconds(Int(seconds * 1_000)) }
            }
            return result
        }
    }
}
