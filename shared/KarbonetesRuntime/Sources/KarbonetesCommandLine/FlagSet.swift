public import Foundation

/// What a parse asks the program to do.
public enum FlagParseOutcome: Sendable {
    /// Start, with these values.
    case run(ParsedFlags)
    /// `--help` was given: print this text and exit 0.
    case help(String)
    /// `--version` was given: print this line and exit 0.
    case version(String)
}

/// The flags of one executable, with its name and version for `--help` and `--version`.
public struct FlagSet: Sendable {
    public var program: String
    public var version: String
    public var summary: String
    public var flags: [Flag]

    public init(program: String, version: String, summary: String, flags: [Flag]) {
        let names = flags.map(\.name)
        precondition(Set(names).count == names.count, "\(program) defines a flag twice: \(names)")
        precondition(!names.contains("help") && !names.contains("version"), "--help and --version are built in")
        self.program = program
        self.version = version
        self.summary = summary
        self.flags = flags
    }

    /// Reads `arguments` (without the program name) and then the environment for every flag not
    /// given as an argument. Accepts `--flag value`, `--flag=value`, `--bool`, `--bool=false`;
    /// the last occurrence of a flag wins. Values are checked by the typed accessors of
    /// ``ParsedFlags``, except booleans, which are checked here.
    public func parse(
        _ arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> FlagParseOutcome {
        let byName = Dictionary(uniqueKeysWithValues: flags.map { ($0.name, $0) })
        var given: [String: ParsedFlags.Resolved] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" { return .help(helpText()) }
            if argument == "--version" { return .version("\(program) \(version)") }
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw FlagError.unexpectedArgument(argument)
            }
            let body = argument.dropFirst(2)
            let name: String
            var inlineValue: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                inlineValue = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            guard let flag = byName[name] else { throw FlagError.unknownFlag("--" + name) }
            let value: String
            if flag.isBoolean {
                value = inlineValue ?? "true"
                guard BooleanSpelling.parse(value) != nil else {
                    throw FlagError.invalidValue(
                        flag: flag,
                        value: value,
                        source: .argument,
                        reason: "not a boolean (true or false)"
                    )
                }
            } else if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else { throw FlagError.missingValue(flag: flag) }
                value = arguments[index]
                index += 1
            }
            given[flag.name] = ParsedFlags.Resolved(value: value, source: .argument)
        }
        for flag in flags where given[flag.name] == nil {
            if let variable = flag.environment, let value = environment[variable] {
                if flag.isBoolean, BooleanSpelling.parse(value) == nil {
                    throw FlagError.invalidValue(
                        flag: flag,
                        value: value,
                        source: .environment(variable),
                        reason: "not a boolean (true or false)"
                    )
                }
                given[flag.name] = ParsedFlags.Resolved(value: value, source: .environment(variable))
            } else if let value = flag.defaultValue {
                given[flag.name] = ParsedFlags.Resolved(value: value, source: .defaultValue)
            }
        }
        return .run(ParsedFlags(program: program, flags: byName, values: given))
    }

    /// For `main`: parses the process's arguments and environment, prints help or the version
    /// and exits 0, or prints the error and exits 2 (the usage-error convention).
    public func parseOrExit(
        _ arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ParsedFlags {
        parseOrExit(arguments, environment: environment) { $0 }
    }

    /// Parses and then converts the values with `build`, so that a bad value found by a typed
    /// accessor (`--listen nonsense`) also exits 2 with the flag named, instead of crashing
    /// `main` with an uncaught error.
    public func parseOrExit<Configuration>(
        _ arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        _ build: (ParsedFlags) throws -> Configuration
    ) -> Configuration {
        do {
            switch try parse(arguments, environment: environment) {
            case .help(let text):
                FileHandle.standardOutput.write(Data((text + "\n").utf8))
                exit(0)
            case .version(let line):
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
                exit(0)
            case .run(let parsed):
                return try build(parsed)
            }
        } catch {
            FileHandle.standardError.write(Data("\(program): \(error)\nRun \(program) --help for the flags.\n".utf8))
            exit(2)
        }
    }

    /// The `--help` text: usage, summary, then one entry per flag with its default and
    /// environment variable.
    public func helpText() -> String {
        var lines = ["Usage: \(program) [flags]", "", summary, "", "Flags:"]
        let builtIns = [
            (spelling: "--help", help: "Show this help and exit."),
            (spelling: "--version", help: "Print the version and exit."),
        ]
        for flag in flags {
            let spelling = flag.isBoolean ? flag.spelling : "\(flag.spelling) <\(flag.valueName)>"
            var details: [String] = []
            if let value = flag.defaultValue { details.append("default: \(value)") }
            if let variable = flag.environment { details.append("env: \(variable)") }
            lines.append("  \(spelling)")
            lines.append("      \(flag.help)" + (details.isEmpty ? "" : " (\(details.joined(separator: "; ")))"))
        }
        for builtIn in builtIns {
            lines.append("  \(builtIn.spelling)")
            lines.append("      \(builtIn.help)")
        }
        return lines.joined(separator: "\n")
    }
}

/// The spellings a boolean flag accepts.
enum BooleanSpelling {
    static func parse(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1", "yes", "on": true
        case "false", "0", "no", "off": false
        default: nil
        }
    }
}
