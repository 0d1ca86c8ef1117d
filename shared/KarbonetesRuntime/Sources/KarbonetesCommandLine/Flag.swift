/// One command-line flag of a Karbonetes executable, with its environment fallback.
///
/// Every flag can also be set through an environment variable, because a Deployment's `env:`
/// is easier to patch than its `args:`; an argument wins over the variable, which wins over
/// the default.
public struct Flag: Sendable, Hashable {
    /// The flag without its leading dashes: `log-level` for `--log-level`.
    public var name: String
    /// The value when neither the argument nor the environment variable is given; nil makes
    /// the flag optional (``ParsedFlags/string(_:)`` returns nil).
    public var defaultValue: String?
    public var help: String
    /// How the help text names the value: `--listen <host:port>`.
    public var valueName: String
    /// A boolean flag takes no value (`--verbose`), or an explicit one (`--verbose=false`).
    public var isBoolean: Bool
    /// The environment variable read when the argument is absent; nil when there is none.
    public var environment: String?

    /// `environment` defaults to `KARBONETES_` + the name upper-cased with `-` turned into `_`
    /// (`--log-level` reads `KARBONETES_LOG_LEVEL`); pass `""` for a flag with no fallback.
    public init(
        name: String,
        default defaultValue: String? = nil,
        help: String,
        valueName: String = "value",
        isBoolean: Bool = false,
        environment: String? = nil
    ) {
        precondition(!name.isEmpty && !name.hasPrefix("-"), "flag names are given without dashes: \(name)")
        self.name = name
        self.defaultValue = defaultValue
        self.help = help
        self.valueName = valueName
        self.isBoolean = isBoolean
        switch environment {
        case .none: self.environment = Flag.defaultEnvironmentName(for: name)
        case .some(""): self.environment = nil
        case .some(let variable): self.environment = variable
        }
    }

    static func defaultEnvironmentName(for name: String) -> String {
        "KARBONETES_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// How it reads in messages: `--log-level`.
    var spelling: String { "--" + name }
}

extension Flag {
    /// The minimum level of log lines written, shared by every executable.
    public static let logLevel = Flag(
        name: "log-level",
        default: "info",
        help: "Minimum level of log lines: trace, debug, info, notice, warning, error or critical.",
        valueName: "level"
    )

    /// Where the service's main HTTP(S) server listens.
    public static func listen(default address: String) -> Flag {
        Flag(name: "listen", default: address, help: "Address the server listens on.", valueName: "host:port")
    }

    /// Where `/metrics`, `/healthz` and `/readyz` are served, apart from the main server.
    public static func metricsListen(default address: String) -> Flag {
        Flag(
            name: "metrics-listen",
            default: address,
            help: "Address of the metrics and health endpoints.",
            valueName: "host:port"
        )
    }

    /// A kubeconfig file; absent means the in-cluster service-account configuration.
    public static let kubeconfig = Flag(
        name: "kubeconfig",
        help: "Path to a kubeconfig file; without it, the in-cluster service account is used.",
        valueName: "path"
    )
}

private extension String {
    func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
