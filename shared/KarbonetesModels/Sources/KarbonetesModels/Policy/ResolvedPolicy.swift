/// A policy with every default filled in and every user override applied: what the decision
/// engine works with. Built by ``PolicyResolver`` from the Job's annotations, the policy the
/// Job names (or `default`) and the built-in defaults, in that order of precedence.
public struct ResolvedPolicy: Sendable, Hashable {
    /// The CarbonAwarePolicy's name, or `nil` when only built-in defaults apply.
    public var policyName: String?
    public var maxDelay: GoDuration
    public var region: String
    public var greenThreshold: Double?
    public var mode: SchedulingMode
    public var strategy: ReleaseStrategy
    public var onSignalUnavailable: SignalUnavailablePolicy
    public var greenPool: PoolDirective
    public var fallbackPool: PoolDirective
    public var releaseRatePerMinute: Int?
    public var recheckInterval: GoDuration
    public var estimatedEnergyKWh: Double?

    public init(
        policyName: String? = nil, maxDelay: GoDuration = BuiltInDefaults.maxDelay, region: String = BuiltInDefaults.region,
        greenThreshold: Double? = nil, mode: SchedulingMode = .prefer, strategy: ReleaseStrategy = .firstGreen,
        onSignalUnavailable: SignalUnavailablePolicy = .run, greenPool: PoolDirective = BuiltInDefaults.greenPool,
        fallbackPool: PoolDirective = BuiltInDefaults.fallbackPool, releaseRatePerMinute: Int? = nil,
        recheckInterval: GoDuration = BuiltInDefaults.recheckInterval, estimatedEnergyKWh: Double? = nil
    ) {
        self.policyName = policyName
        self.maxDelay = maxDelay
        self.region = region
        self.greenThreshold = greenThreshold
        self.mode = mode
        self.strategy = strategy
        self.onSignalUnavailable = onSignalUnavailable
        self.greenPool = greenPool
        self.fallbackPool = fallbackPool
        self.releaseRatePerMinute = releaseRatePerMinute
        self.recheckInterval = recheckInterval
        self.estimatedEnergyKWh = estimatedEnergyKWh
    }

    /// Green by the policy's threshold when it has one, else by the signal's own flag.
    public func isGreen(_ signal: CarbonSignal) -> Bool {
        if let greenThreshold { return signal.intensity <= greenThreshold }
        return signal.green
    }
}

/// A pool to steer to: the NodePool's name and the taint to tolerate there.
public struct PoolDirective: Sendable, Hashable {
    public var name: String
    public var taint: Taint?

    public init(name: String, taint: Taint? = nil) {
        self.name = name
        self.taint = taint
    }
}

/// What applies when neither the Job nor a CarbonAwarePolicy says otherwise. The CRD's
/// schema defaults are these same values (a test checks the two agree).
public enum BuiltInDefaults {
    public static let maxDelay = GoDuration.hours(6)
    public static let region = "default"
    public static let recheckInterval = GoDuration.minutes(5)
    public static let greenPoolTaint = Taint(key: "carbon-aware.io/green", value: "true", effect: "NoSchedule")
    public static let greenPool = PoolDirective(name: "green-batch", taint: greenPoolTaint)
    public static let fallbackPool = PoolDirective(name: "default", taint: nil)
}
