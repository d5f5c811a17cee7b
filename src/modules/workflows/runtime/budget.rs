//! The byte and item budget of expressions: MiniJinja with every allocation that can grow
//! without bound checked *before* it happens.
//!
//! MiniJinja's fuel counts instructions, not bytes: `{% set ns.s = ns.s ~ ns.s %}` in a loop
//! doubles a string with a handful of instructions, and `'x' * 100000000`, `join`, `indent`,
//! `replace('', …)` or `format('%999999999s')` build huge strings in one. So expressions
//! are not run through MiniJinja's own `render`/`eval` but compiled here and rewritten
//! before they run (MiniJinja's `unstable_machinery`, pinned by `Cargo.lock`):
//!
//! * the operators that build strings or collections (`~`, `+`, `*`) become calls of
//!   checking versions that refuse a result over the budget before building it;
//! * everything a template writes (`{{ … }}` and raw text, also inside `{% set %}` blocks
//!   and macros) is counted before it is written, against one total per evaluation;
//! * the filters that amplify (`join`, `replace`, `indent`, `format`, `batch`, `slice`,
//!   `string`, `pprint`, `tojson`, `sum`) are replaced by versions that measure the result
//!   first, and every filter's, function's and method's result is checked after it, so no
//!   chain of filters compounds.
//!
//! The budget of the evaluation in progress lives in a thread-local: evaluations are
//! synchronous and never nest.
//!
//! One file (about 600 lines) on purpose: the bytecode rewrite, the checking operators and
//! the filter prechecks must cover the same amplifying operations, and a reader auditing the
//! budget should see all of them together.

use std::{
    cell::RefCell,
    fmt::{self, Write as _},
    sync::OnceLock,
};

use minijinja::{
    Environment, Error, ErrorKind, Expression, State, Value,
    machinery::{Instruction, Instructions, Vm},
    value::{Rest, ValueKind},
};

/// Limits of one evaluation (a node's whole configuration, or one Filter condition).
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// `ZYGO_WORKFLOW_MAX_VALUE_BYTES`: the longest string an expression may build, and
    /// the most text one evaluation may write.
    pub max_bytes: usize,
    /// `ZYGO_WORKFLOW_MAX_ITEMS`: the most entries of a list or map an expression may
    /// build.
    pub max_items: usize,
    /// `ZYGO_WORKFLOW_MAX_OUTPUT_BYTES`: the largest node output (as JSON), and the most
    /// JSON one evaluation's values (`{{ nodes.fetch.output }}`) may copy.
    pub max_output: usize,
}

impl Budget {
    /// The budget the configuration sets.
    pub fn of(cfg: &crate::config::WorkflowSettings) -> Self {
        Self { max_bytes: cfg.max_value_bytes, max_items: cfg.max_items, max_output: cfg.max_output_bytes }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self { max_bytes: 5 << 20, max_items: 100_000, max_output: 16 << 20 }
    }
}

struct Meter {
    budget: Budget,
    /// Bytes written so far by this evaluation.
    written: usize,
    /// JSON bytes of the values this evaluation produced so far.
    values: usize,
}

thread_local! {
    static METER: RefCell<Option<Meter>> = const { RefCell::new(None) };
}

/// Runs `f` with `budget` as the budget of the evaluations inside it: all of them together
/// may write at most `budget.max_bytes`.
pub fn metered<R>(budget: Budget, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Meter>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            METER.with(|m| *m.borrow_mut() = prev);
        }
    }
    let prev = METER.with(|m| m.borrow_mut().replace(Meter { budget, written: 0, values: 0 }));
    let _restore = Restore(prev);
    f()
}

fn budget() -> Budget {
    METER.with(|m| m.borrow().as_ref().map(|m| m.budget)).unwrap_or_default()
}

/// Counts `n` more bytes written; an error once the evaluation's total is over budget.
pub fn charge(n: usize) -> Result<(), Error> {
    METER.with(|m| {
        let mut m = m.borrow_mut();
        let Some(m) = m.as_mut() else { return Ok(()) };
        m.written = m.written.saturating_add(n);
        if m.written > m.budget.max_bytes { Err(too_long(m.budget.max_bytes)) } else { Ok(()) }
    })
}

/// Counts a value of `n` JSON bytes produced; an error once the evaluation's values are
/// over `max_output`.
pub fn charge_value(n: usize) -> Result<(), String> {
    METER.with(|m| {
        let mut m = m.borrow_mut();
        let Some(m) = m.as_mut() else { return Ok(()) };
        m.values = m.values.saturating_add(n);
        if m.values > m.budget.max_output { Err(too_big(m.budget.max_output)) } else { Ok(()) }
    })
}

/// The message of a value over `max_output`.
pub fn too_big(max: usize) -> String {
    format!("the value is larger than {max} bytes (ZYGO_WORKFLOW_MAX_OUTPUT_BYTES)")
}

fn too_long(max: usize) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("the expression would build more than {max} bytes (ZYGO_WORKFLOW_MAX_VALUE_BYTES)"),
    )
}

fn too_many(max: usize) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("the expression would build more than {max} items (ZYGO_WORKFLOW_MAX_ITEMS)"),
    )
}

/// A `fmt::Write` that keeps (or only counts) at most `limit` bytes and fails beyond:
/// formatting into it stops as soon as the limit is passed, whatever the value's size.
pub struct Bounded {
    buf: Option<String>,
    len: usize,
    limit: usize,
}

impl Bounded {
    pub fn counter(limit: usize) -> Self {
        Self { buf: None, len: 0, limit }
    }
    pub fn collector(limit: usize) -> Self {
        Self { buf: Some(String::new()), len: 0, limit }
    }
    pub fn into_string(self) -> String {
        self.buf.unwrap_or_default()
    }
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.len = self.len.saturating_add(s.len());
        if self.len > self.limit {
            return Err(fmt::Error);
        }
        if let Some(b) = self.buf.as_mut() {
            b.push_str(s);
        }
        Ok(())
    }
}

impl std::io::Write for Bounded {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.len = self.len.saturating_add(b.len());
        if self.len > self.limit {
            return Err(std::io::Error::other("over budget"));
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes of `v`'s display form, or an error once over `limit`.
fn display_len(v: &Value, limit: usize) -> Result<usize, Error> {
    let mut w = Bounded::counter(limit);
    write!(w, "{v}").map_err(|_| too_long(limit))?;
    Ok(w.len)
}

/// JSON size of `v` (as `tojson` or a node's configuration holds it), or an error once over
/// `limit`.
pub fn json_len(v: &impl serde::Serialize, limit: usize) -> Result<usize, usize> {
    let mut w = Bounded::counter(limit);
    serde_json::to_writer(&mut w, v).map_err(|_| limit)?;
    Ok(w.len)
}

fn is_seq(v: &Value) -> bool {
    matches!(v.kind(), ValueKind::Seq | ValueKind::Iterable)
}

/// Entries of a list or map, counted up to `max + 1` when it does not know its length: a
/// lazy chain (`+`, `chain`, `zip` of lazy values) can stand for billions of entries that
/// the next `list` or `length` would produce.
fn items(v: &Value, max: usize) -> usize {
    v.len().unwrap_or_else(|| v.try_iter().map(|i| i.take(max.saturating_add(1)).count()).unwrap_or(0))
}

/// Refuses a value over the budget (applied to every filter's and function's result).
fn check(v: Value) -> Result<Value, Error> {
    let b = budget();
    if let Some(s) = v.as_str() {
        if s.len() > b.max_bytes {
            return Err(too_long(b.max_bytes));
        }
    } else if matches!(v.kind(), ValueKind::Seq | ValueKind::Iterable | ValueKind::Map)
        && items(&v, b.max_items) > b.max_items
    {
        return Err(too_many(b.max_items));
    }
    Ok(v)
}

fn plain() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(Environment::new)
}

/// MiniJinja's own operator on two operands already checked against the budget.
fn builtin_op(op: &'static str, a: Value, b: Value) -> Result<Value, Error> {
    static ADD: OnceLock<Expression<'static, 'static>> = OnceLock::new();
    static MUL: OnceLock<Expression<'static, 'static>> = OnceLock::new();
    let expr = match op {
        "+" => ADD.get_or_init(|| plain().compile_expression("a + b").expect("compiles")),
        _ => MUL.get_or_init(|| plain().compile_expression("a * b").expect("compiles")),
    };
    expr.eval(minijinja::context! { a => a, b => b })
}

/// `a ~ b`, built into a buffer that stops at the budget.
fn concat(a: Value, b: Value) -> Result<Value, Error> {
    let max = budget().max_bytes;
    let mut w = Bounded::collector(max);
    write!(w, "{a}{b}").map_err(|_| too_long(max))?;
    Ok(Value::from(w.into_string()))
}

/// `a + b`: strings and lists are measured before they are joined.
fn add(a: Value, b: Value) -> Result<Value, Error> {
    let bud = budget();
    if let (Some(x), Some(y)) = (a.as_str(), b.as_str())
        && x.len() + y.len() > bud.max_bytes
    {
        return Err(too_long(bud.max_bytes));
    }
    if is_seq(&a)
        && is_seq(&b)
        && items(&a, bud.max_items).saturating_add(items(&b, bud.max_items)) > bud.max_items
    {
        return Err(too_many(bud.max_items));
    }
    builtin_op("+", a, b)
}

/// `a * b`: a repeated string or list is measured before it is built.
fn mul(a: Value, b: Value) -> Result<Value, Error> {
    let bud = budget();
    for (x, n) in [(&a, &b), (&b, &a)] {
        let Some(n) = n.as_usize() else { continue };
        if let Some(s) = x.as_str()
            && s.len().saturating_mul(n) > bud.max_bytes
        {
            return Err(too_long(bud.max_bytes));
        }
        if is_seq(x) && x.len().unwrap_or(usize::MAX).saturating_mul(n) > bud.max_items {
            return Err(too_many(bud.max_items));
        }
    }
    builtin_op("*", a, b)
}

/// Counts what a template is about to write.
fn meter(v: Value) -> Result<Value, Error> {
    let max = budget().max_bytes;
    let n = match v.as_str() {
        Some(s) => s.len(),
        None => display_len(&v, max)?,
    };
    charge(n)?;
    Ok(v)
}

/// Integers among a filter's arguments, keyword arguments included (widths, counts).
fn numbers(args: &[Value]) -> Vec<usize> {
    let mut out = Vec::new();
    for a in args {
        if let Some(n) = a.as_usize() {
            out.push(n);
        } else if a.kind() == ValueKind::Map
            && let Ok(keys) = a.try_iter()
        {
            out.extend(keys.filter_map(|k| a.get_item(&k).ok()?.as_usize()));
        }
    }
    out
}

/// Checks a filter's arguments before the builtin runs: `Err` when its result would be
/// over the budget.
fn precheck(name: &str, args: &[Value]) -> Result<(), Error> {
    let b = budget();
    let Some(value) = args.first() else { return Ok(()) };
    let text_len = |v: &Value| -> Result<usize, Error> {
        match v.as_str() {
            Some(s) => Ok(s.len()),
            None => display_len(v, b.max_bytes),
        }
    };
    let bound: usize = match name {
        "join" => {
            let joiner = args.get(1).and_then(Value::as_str).map(str::len).unwrap_or(0);
            if let Some(s) = value.as_str() {
                s.len().saturating_add(s.chars().count().saturating_mul(joiner))
            } else if value.is_undefined() || value.is_none() {
                0
            } else {
                let mut total = 0usize;
                for item in value.try_iter()? {
                    total = total.saturating_add(text_len(&item)?).saturating_add(joiner);
                    if total > b.max_bytes {
                        return Err(too_long(b.max_bytes));
                    }
                }
                total
            }
        }
        "replace" => {
            let (Some(s), Some(from), Some(to)) =
                (value.as_str(), args.get(1).and_then(Value::as_str), args.get(2).and_then(Value::as_str))
            else {
                return Ok(());
            };
            let hits = if from.is_empty() { s.chars().count() + 1 } else { s.matches(from).count() };
            s.len().saturating_add(hits.saturating_mul(to.len()))
        }
        "indent" => {
            let len = text_len(value)?;
            let lines = value.as_str().map(|s| s.lines().count() + 1).unwrap_or(len + 1);
            let width = numbers(&args[1..]).into_iter().max().unwrap_or(4);
            len.saturating_add(lines.saturating_mul(width))
        }
        "format" => {
            let Some(f) = value.as_str() else { return Ok(()) };
            // Every run of digits could be a width or precision: a generous upper bound.
            let widths: usize = f
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|d| d.parse::<usize>().ok())
                .fold(0, usize::saturating_add);
            let mut total = f.len().saturating_add(widths);
            for a in &args[1..] {
                total = total.saturating_add(display_len(a, b.max_bytes)?);
            }
            total
        }
        "string" => text_len(value)?,
        "pprint" => {
            let mut w = Bounded::counter(b.max_bytes);
            write!(w, "{value:#?}").map_err(|_| too_long(b.max_bytes))?;
            w.len
        }
        "tojson" => json_len(value, b.max_bytes).map_err(too_long)?,
        "batch" | "slice" => {
            let n = numbers(&args[1..2.min(args.len())]).into_iter().max().unwrap_or(0);
            if n > b.max_items || value.len().unwrap_or(0) > b.max_items {
                return Err(too_many(b.max_items));
            }
            0
        }
        "sum" => {
            // `sum` adds lists and strings too: measure what it would join.
            let mut items = 0usize;
            let mut bytes = 0usize;
            for item in value.try_iter()? {
                if let Some(s) = item.as_str() {
                    bytes = bytes.saturating_add(s.len());
                } else if is_seq(&item) {
                    items = items.saturating_add(item.len().unwrap_or(usize::MAX));
                }
                if items > b.max_items {
                    return Err(too_many(b.max_items));
                }
            }
            bytes
        }
        _ => 0,
    };
    if bound > b.max_bytes { Err(too_long(b.max_bytes)) } else { Ok(()) }
}

/// Filters replaced by a version that measures its result before the builtin builds it.
const AMPLIFIERS: &[&str] =
    &["join", "replace", "indent", "format", "string", "pprint", "tojson", "batch", "slice", "sum"];

/// Names the rewritten programs call; a source naming them is refused.
const RESERVED: &str = "__zygo_";

/// Adds the checking functions and filters to `env`.
pub fn install(env: &mut Environment<'static>) {
    env.add_function("__zygo_concat", concat);
    env.add_function("__zygo_add", add);
    env.add_function("__zygo_mul", mul);
    env.add_function("__zygo_meter", meter);
    env.add_function("__zygo_check", check);
    for name in AMPLIFIERS {
        let Some(original) = builtin_filter(name) else { continue };
        env.add_filter(*name, move |state: &State, args: Rest<Value>| -> Result<Value, Error> {
            precheck(name, &args)?;
            original.call(state, &args)
        });
    }
}

/// A builtin filter as a callable value (MiniJinja has no getter for registered filters;
/// its filter functions are public).
fn builtin_filter(name: &str) -> Option<Value> {
    Some(match name {
        "join" => Value::from_function(minijinja::filters::join),
        "replace" => Value::from_function(minijinja::filters::replace),
        "indent" => Value::from_function(minijinja::filters::indent),
        "format" => Value::from_function(minijinja::filters::format),
        "string" => Value::from_function(minijinja::filters::string),
        "pprint" => Value::from_function(minijinja::filters::pprint),
        "tojson" => Value::from_function(minijinja::filters::tojson),
        "batch" => Value::from_function(minijinja::filters::batch),
        "slice" => Value::from_function(minijinja::filters::slice),
        "sum" => Value::from_function(minijinja::filters::sum),
        _ => return None,
    })
}

/// `instructions` rewritten so that every growth is checked (see the module's comment).
fn rewrite<'s>(old: &Instructions<'s>) -> Result<Instructions<'s>, Error> {
    let n = old.len() as u32;
    // First pass: where each old instruction starts in the new program.
    let mut starts = Vec::with_capacity(n as usize + 1);
    let mut at = 0u32;
    for i in 0..n {
        starts.push(at);
        at += match old.get(i).expect("in range") {
            Instruction::Emit => 2,
            Instruction::EmitRaw(_) => 3,
            Instruction::ApplyFilter(..) | Instruction::CallMethod(..) | Instruction::CallObject(_) => 2,
            Instruction::CallFunction(name, _) if *name != "loop" && *name != "super" => 2,
            _ => 1,
        };
    }
    starts.push(at);
    let to = |t: &u32| starts.get(*t as usize).copied().unwrap_or(at);
    let mut new = Instructions::new(old.name(), old.source());
    for i in 0..n {
        let line = old.get_line(i).unwrap_or(0) as u16;
        let mut push = |instr: Instruction<'s>| {
            new.add_with_line(instr, line);
        };
        let instr = old.get(i).expect("in range").clone();
        if let Instruction::Lookup(name)
        | Instruction::StoreLocal(name)
        | Instruction::SetAttr(name)
        | Instruction::CallFunction(name, _) = &instr
            && name.starts_with(RESERVED)
        {
            return Err(Error::new(ErrorKind::InvalidOperation, format!("`{name}` is a reserved name")));
        }
        match instr {
            Instruction::StringConcat => push(Instruction::CallFunction("__zygo_concat", Some(2))),
            Instruction::Add => push(Instruction::CallFunction("__zygo_add", Some(2))),
            Instruction::Mul => push(Instruction::CallFunction("__zygo_mul", Some(2))),
            Instruction::Emit => {
                push(Instruction::CallFunction("__zygo_meter", Some(1)));
                push(Instruction::Emit);
            }
            Instruction::EmitRaw(s) => {
                push(Instruction::LoadConst(Value::from_safe_string(s.to_string())));
                push(Instruction::CallFunction("__zygo_meter", Some(1)));
                push(Instruction::Emit);
            }
            Instruction::ApplyFilter(..) | Instruction::CallMethod(..) | Instruction::CallObject(_) => {
                push(instr);
                push(Instruction::CallFunction("__zygo_check", Some(1)));
            }
            Instruction::CallFunction(name, _) if name != "loop" && name != "super" => {
                push(instr);
                push(Instruction::CallFunction("__zygo_check", Some(1)));
            }
            Instruction::Jump(t) => push(Instruction::Jump(to(&t))),
            Instruction::JumpIfFalse(t) => push(Instruction::JumpIfFalse(to(&t))),
            Instruction::JumpIfFalseOrPop(t) => push(Instruction::JumpIfFalseOrPop(to(&t))),
            Instruction::JumpIfTrueOrPop(t) => push(Instruction::JumpIfTrueOrPop(to(&t))),
            Instruction::Iterate(t) => push(Instruction::Iterate(to(&t))),
            Instruction::BuildMacro(name, t, flags) => push(Instruction::BuildMacro(name, to(&t), flags)),
            other => push(other),
        }
    }
    Ok(new)
}

/// Refuses a source whose literals alone could fold into a value over the budget.
///
/// MiniJinja folds operators on literals while compiling (`'x' * 99999999` is a 100 MB
/// constant before anything runs), out of reach of the rewritten operators. A folded
/// subexpression holds only literals, operators and brackets, so each run of such tokens
/// is bounded: its string and bracket bytes times the product of its numbers.
fn precheck_constants(source: &str, in_expr: bool, max: usize) -> Result<(), Error> {
    use minijinja::machinery::Token;
    // `bytes`: string and bracket bytes of the run; `product`: the numbers it multiplies by
    // (operands of `*`, counted generously; any `**` could be anything).
    let (mut bytes, mut product) = (0usize, 1usize);
    let (mut last_int, mut after_mul) = (None::<usize>, false);
    let check = |bytes: &mut usize, product: &mut usize| {
        let over = *bytes > 0 && bytes.saturating_mul(*product) > max;
        (*bytes, *product) = (0, 1);
        if over { Err(too_long(max)) } else { Ok(()) }
    };
    for token in minijinja::machinery::tokenize(source, in_expr, Default::default(), Default::default()) {
        let (token, _) = token?;
        match token {
            Token::Int(n) => {
                let n = usize::try_from(n).unwrap_or(usize::MAX).max(1);
                if after_mul {
                    product = product.saturating_mul(n);
                }
                last_int = Some(n);
                after_mul = false;
            }
            Token::Float(f) => {
                let n = if f >= 1.0 { f as usize } else { 1 };
                if after_mul {
                    product = product.saturating_mul(n);
                }
                last_int = Some(n);
                after_mul = false;
            }
            Token::Mul => {
                if let Some(n) = last_int {
                    product = product.saturating_mul(n);
                }
                after_mul = true;
            }
            Token::ParenOpen => {}
            Token::ParenClose => after_mul = false,
            Token::Int128(_) | Token::Pow => {
                product = usize::MAX;
                (last_int, after_mul) = (None, false);
            }
            Token::Str(s) => {
                bytes = bytes.saturating_add(s.len().max(1));
                (last_int, after_mul) = (None, false);
            }
            Token::String(s) => {
                bytes = bytes.saturating_add(s.len().max(1));
                (last_int, after_mul) = (None, false);
            }
            Token::BracketOpen | Token::BracketClose | Token::BraceOpen | Token::BraceClose => {
                bytes = bytes.saturating_add(1);
                (last_int, after_mul) = (None, false);
            }
            Token::Plus
            | Token::Minus
            | Token::Div
            | Token::FloorDiv
            | Token::Mod
            | Token::Tilde
            | Token::Colon => {
                (last_int, after_mul) = (None, false);
            }
            _ => {
                (last_int, after_mul) = (None, false);
                check(&mut bytes, &mut product)?;
            }
        }
    }
    check(&mut bytes, &mut product)
}

/// Compiles and runs a template with the budget's checks; returns what it wrote.
pub fn render(env: &Environment<'static>, source: &str, ctx: &Value) -> Result<String, Error> {
    precheck_constants(source, false, budget().max_bytes)?;
    let ast = minijinja::machinery::parse(source, "<string>", Default::default(), Default::default())?;
    let mut g = minijinja::machinery::CodeGenerator::new("<string>", source);
    g.compile_stmt(&ast);
    let (instructions, blocks) = g.finish();
    let instructions = rewrite(&instructions)?;
    let blocks = blocks
        .iter()
        .map(|(k, v)| Ok((*k, rewrite(v)?)))
        .collect::<Result<std::collections::BTreeMap<_, _>, Error>>()?;
    let mut out = String::new();
    {
        let mut output = minijinja::machinery::make_string_output(&mut out);
        Vm::new(env).eval(&instructions, ctx.clone(), &blocks, &mut output, minijinja::AutoEscape::None)?;
    }
    Ok(out)
}

/// Compiles and evaluates one expression with the budget's checks.
pub fn eval(env: &Environment<'static>, source: &str, ctx: &Value) -> Result<Value, Error> {
    precheck_constants(source, true, budget().max_bytes)?;
    let ast = minijinja::machinery::parse_expr(source)?;
    let mut g = minijinja::machinery::CodeGenerator::new("<expression>", source);
    g.compile_expr(&ast);
    let (instructions, _) = g.finish();
    let instructions = rewrite(&instructions)?;
    let mut out = String::new();
    let mut output = minijinja::machinery::make_string_output(&mut out);
    let (v, _) = Vm::new(env).eval(
        &instructions,
        ctx.clone(),
        &Default::default(),
        &mut output,
        minijinja::AutoEscape::None,
    )?;
    Ok(v.unwrap_or(Value::UNDEFINED))
}
