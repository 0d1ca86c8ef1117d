/// Why an evaluation input (a workload spec, a window, a threshold) was refused; the
/// description quotes the text the user wrote, so the flag's error says what to fix.
public struct EvalInputError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Sendable, Hashable {
        case workload(spec: String, problem: String)
        case cron(expression: String, problem: String)
        case staticWindow(String)
        case threshold(String)
        case range(String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    static func workload(_ spec: String, _ problem: String) -> EvalInputError { EvalInputError(.workload(spec: spec, problem: problem)) }
    static func cron(_ expression: String, _ problem: String) -> EvalInputError { EvalInputError(.cron(expression: expression, problem: problem)) }
    static func staticWindow(_ text: String) -> EvalInputError { EvalInputError(.staticWindow(text)) }
    static func threshold(_ text: String) -> EvalInputError { EvalInputError(.threshold(text)) }
    static func range(_ problem: String) -> EvalInputError { EvalInputError(.range(problem)) }

    public var description: String {
        switch kind {
        case .workload(let spec, let problem):
            return "workload \"\(spec)\": \(problem) (write e.g. poisson:1/h;duration=1h;seed=1, every:6h;duration=30m..2h or cron:0 2 * * *)"
        case .cron(let expression, let problem):
            return "cron schedule \"\(expression)\": \(problem) (five fields: minute hour day-of-month month day-of-week, UTC)"
        case .staticWindow(let text):
            return "static window \"\(text)\" is not HH:MM-HH:MM (UTC), e.g. 10:00-16:00"
        case .threshold(let text):
            return "threshold \"\(text)\" is neither gCO2eq/kWh (150) nor a percentile of the trace (p30)"
        case .range(let problem):
            return problem
        }
    }
}
