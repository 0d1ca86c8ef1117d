import CKarbonYAML

/// Builds ``YAMLValue`` documents from libyaml's event stream.
///
/// libyaml keeps a pointer to its input and, for string input, to the parser struct itself, so
/// both live in memory this type allocates and frees only after `yaml_parser_delete`.
struct YAMLEventParser: ~Copyable {
    static let maximumDepth = 512
    static let maximumAliasExpansion = 1_000_000

    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>

    init(_ bytes: some Collection<UInt8>) {
        input = UnsafeMutableBufferPointer.allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        parser = UnsafeMutablePointer.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        yaml_parser_initialize(parser)
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deinitialize(count: 1)
        parser.deallocate()
        input.deallocate()
    }

    /// A sequence or mapping between its start and end events.
    private struct Frame {
        var isMapping: Bool
        var anchor: String?
        /// Nodes in this collection so far, itself included, to bound alias expansion.
        var nodeCount = 1
        var items: [YAMLValue] = []
        var entries: [(key: String, value: YAMLValue)] = []
        /// The key read, waiting for its value.
        var pending: PendingKey?
        var keys: Set<String> = []
        /// Entries from `<<` merge keys, added at the end for keys the mapping does not set.
        var merged: [(key: String, value: YAMLValue)] = []
    }

    private enum PendingKey {
        case key(String, line: Int, column: Int)
        case merge(line: Int, column: Int)
    }

    private struct Anchored {
        var value: YAMLValue
        var nodeCount: Int
    }

    /// Every document of the stream, in order.
    func parseDocuments() throws -> [YAMLValue] {
        var documents: [YAMLValue] = []
        var stack: [Frame] = []
        var anchors: [String: Anchored] = [:]
        var expanded = 0
        var documentValue: YAMLValue?

        // Places a finished node into its parent (or as the document's root).
        func place(
            _ value: YAMLValue,
            nodeCount: Int,
            anchor: String?,
            at position: (line: Int, column: Int),
            keyText: String?,
            isMergeKey: Bool = false
        ) throws {
            if let anchor { anchors[anchor] = Anchored(value: value, nodeCount: nodeCount) }
            guard !stack.isEmpty else {
                documentValue = value
                return
            }
            let top = stack.endIndex - 1
            stack[top].nodeCount += nodeCount
            guard stack[top].isMapping else {
                stack[top].items.append(value)
                return
            }
            switch stack[top].pending {
            case .none:
                guard let keyText else { throw YAMLError.complexKey(line: position.line, column: position.column) }
                stack[top].pending = isMergeKey ? .merge(line: position.line, column: position.column)
                    : .key(keyText, line: position.line, column: position.column)
            case .key(let key, let line, let column)?:
                guard stack[top].keys.insert(key).inserted else {
                    throw YAMLError.duplicateKey(key, line: line, column: column)
                }
                stack[top].entries.append((key, value))
                stack[top].pending = nil
            case .merge(let line, let column)?:
                let sources: [YAMLValue]
                if case .sequence(let items) = value { sources = items } else { sources = [value] }
                for source in sources {
                    guard case .mapping(let sourceEntries) = source else {
                        throw YAMLError.invalidMerge(source.description, line: line, column: column)
                    }
                    // The first source that names a key wins, as in YAML 1.1's merge.
                    for entry in sourceEntries where !stack[top].merged.contains(where: { $0.key == entry.key }) {
                        stack[top].merged.append(entry)
                    }
                }
                stack[top].pending = nil
            }
        }

        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) != 0 else { throw syntaxError() }
            defer { yaml_event_delete(&event) }
            let position = (line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return documents
            case YAML_DOCUMENT_START_EVENT:
                anchors = [:]
                documentValue = nil
            case YAML_DOCUMENT_END_EVENT:
                documents.append(documentValue ?? .null)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                guard stack.count < Self.maximumDepth else {
                    throw YAMLError.tooDeep(limit: Self.maximumDepth, line: position.line, column: position.column)
                }
                if let top = stack.last, top.isMapping, top.pending == nil {
                    throw YAMLError.complexKey(line: position.line, column: position.column)
                }
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
                stack.append(Frame(isMapping: isMapping, anchor: Self.string(anchor)))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { continue }
                let value: YAMLValue
                if frame.isMapping {
                    value = .mapping(frame.entries + frame.merged.filter { !frame.keys.contains($0.key) })
                } else {
                    value = .sequence(frame.items)
                }
                try place(value, nodeCount: frame.nodeCount, anchor: frame.anchor, at: position, keyText: nil)
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = Self.string(scalar.value, length: scalar.length)
                let isPlain = scalar.style == YAML_PLAIN_SCALAR_STYLE
                let value = try YAMLCoreSchema.resolve(
                    text: text,
                    tag: Self.string(scalar.tag),
                    isPlain: isPlain,
                    line: position.line,
                    column: position.column
                )
                try place(
                    value,
                    nodeCount: 1,
                    anchor: Self.string(scalar.anchor),
                    at: position,
                    keyText: text,
                    isMergeKey: isPlain && scalar.tag == nil && text == "<<"
                )
            case YAML_ALIAS_EVENT:
                let name = Self.string(event.data.alias.anchor) ?? ""
                guard let anchored = anchors[name] else {
                    throw YAMLError.unknownAlias(name, line: position.line, column: position.column)
                }
                expanded += anchored.nodeCount
                guard expanded <= Self.maximumAliasExpansion else {
                    throw YAMLError.aliasExpansion(
                        limit: Self.maximumAliasExpansion,
                        line: position.line,
                        column: position.column
                    )
                }
                try place(
                    anchored.value,
                    nodeCount: anchored.nodeCount,
                    anchor: nil,
                    at: position,
                    keyText: Self.keyText(anchored.value)
                )
            default:
                continue
            }
        }
    }

    /// The text an aliased scalar contributes as a mapping key.
    private static func keyText(_ value: YAMLValue) -> String? {
        switch value {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .int(let value): "\(value)"
        case .double(let value): "\(value)"
        case .string(let value): value
        case .sequence, .mapping: nil
        }
    }

    private func syntaxError() -> YAMLError {
        let state = parser.pointee
        let problem = state.problem.map { String(cString: $0) } ?? "malformed YAML"
        let context = state.context.map { String(cString: $0) }
        return YAMLError.syntax(
            problem: problem,
            context: context,
            line: Int(state.problem_mark.line) + 1,
            column: Int(state.problem_mark.column) + 1
        )
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }
}
