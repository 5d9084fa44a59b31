//! Issue 4: the shipped bank holds every inventory question once, meets the minimums, and
//! the offline grader ranks answers to it the way an interviewer would.

use grill::bank::{Bank, minimum_problems};
use grill::grade::offline;

/// The 94 ids of `../shared/inventory.md` section 2, in its order.
const INVENTORY_IDS: [&str; 94] = [
    "cpython-execution",
    "interning-caching",
    "dict-internals",
    "cpython-vs-pypy",
    "ast-module",
    "memory-management",
    "memory-leak-debugging",
    "slots",
    "memoryview",
    "dunder-methods",
    "new-vs-init",
    "mro-super",
    "descriptors",
    "property",
    "metaclasses",
    "access-control",
    "abstract-base-classes",
    "composition-vs-inheritance",
    "overloading-dispatch",
    "singleton",
    "is-vs-eq",
    "copy-semantics",
    "hashability",
    "mutable-default-args",
    "import-system",
    "decorators",
    "closures",
    "lambdas",
    "args-kwargs",
    "walrus",
    "generators-iterators",
    "genexp-vs-listcomp",
    "context-managers",
    "exceptions",
    "pattern-matching",
    "data-structures-choice",
    "enums",
    "dataclasses",
    "monkey-patching",
    "duck-typing-vs-hints",
    "typing-advanced",
    "protocols",
    "pydantic",
    "collections-module",
    "itertools",
    "functools",
    "regex",
    "gil",
    "concurrency-models",
    "free-threading",
    "event-loop",
    "await-semantics",
    "coroutine-task-future",
    "asyncio-races-sync",
    "blocking-the-loop",
    "gather-vs-taskgroup",
    "cancellation-timeouts",
    "async-cm-generators",
    "graceful-shutdown",
    "uvloop",
    "contextvars",
    "wsgi-vs-asgi",
    "fastapi-why",
    "django-vs-fastapi",
    "dependency-injection",
    "fastapi-async-vs-def",
    "fastapi-auth",
    "middleware",
    "django-essentials",
    "rest-vs-graphql",
    "django-n-plus-1",
    "db-migrations",
    "db-connection-pooling",
    "csrf",
    "session-vs-jwt",
    "pickle-security",
    "deployment-servers",
    "packaging-deps",
    "dockerfile",
    "code-organization",
    "celery-task-queues",
    "logging",
    "high-concurrency",
    "testing-strategy",
    "fastapi-testing",
    "profiling-optimization",
    "flatten-nested-list",
    "lru-cache-impl",
    "large-file-processing",
    "sort-list-of-dicts",
    "python-in-ml",
    "ml-model-serving",
    "oss-contributing",
    "peps-to-know",
];

fn bank() -> Bank {
    Bank::embedded().expect("the shipped bank loads")
}

#[test]
fn every_inventory_id_is_present_exactly_once() {
    let bank = bank();
    let ids: Vec<&str> = bank.questions().iter().map(|q| q.id.as_str()).collect();
    for id in INVENTORY_IDS {
        assert_eq!(ids.iter().filter(|&&x| x == id).count(), 1, "{id}");
    }
    assert_eq!(ids.len(), INVENTORY_IDS.len(), "the bank has questions the inventory does not list");
}

/// The inventory lives beside the checkout, not in it: a plain `cargo test` reports this
/// test as ignored instead of passing it without its file; `.ci/run` runs it.
#[test]
#[ignore = "needs ../shared/inventory.md beside the checkout; cargo test -- --ignored"]
fn the_id_list_matches_the_inventory_file() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/inventory.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Section 2 rows read "| 12 | `mro-super` | ...".
    let listed: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let id = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            let kebab = id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            (cells[1].parse::<u32>().is_ok() && kebab).then(|| id.to_string())
        })
        .collect();
    assert_eq!(listed, INVENTORY_IDS);
}

#[test]
fn every_shipped_question_meets_the_minimums() {
    let bank = bank();
    let problems = minimum_problems(&bank);
    assert!(problems.is_empty(), "{}", problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"));
    for q in bank.questions() {
        assert_eq!(q.origin.file, format!("question_bank/{}.toml", q.topic), "{} is filed under its topic", q.id);
        assert!(!q.testing.is_empty() && !q.reference_answer.is_empty(), "{}", q.id);
        for s in &q.sources {
            assert!(["000_", "001_", "002_", "003_", "004_"].iter().any(|p| s.starts_with(p)), "{}: source {s}", q.id);
        }
        assert!(q.red_flags.iter().all(|f| !f.cues.is_empty()), "{}", q.id);
        for f in &q.follow_ups {
            assert!(!f.key_points.is_empty() && !f.probes.is_empty(), "{} / {}", q.id, f.id);
        }
    }
}

/// For each question: a strong answer, a partial one, a wrong one and a keyword-stuffed
/// one, written for this test in the project's own words.
const RANKING: &[(&str, &str, &str, &str, &str)] = &[
    (
        "gil",
        "The GIL is a mutex in CPython: a thread has to hold it to execute bytecode, so only one thread runs \
         Python code at a time per interpreter. It exists because reference counts change constantly and one lock \
         avoids atomic operations on every object, which keeps single-threaded code fast and C extensions simple. \
         Blocking I/O releases the GIL, so I/O bound threads scale, while CPU bound threads get no speed up; for \
         those I use multiprocessing or a ProcessPoolExecutor and accept the pickling cost. Since 3.2 the switch is \
         time based, the switch interval is 5 ms. The free-threaded build from PEP 703 removes it and is supported \
         in 3.14.",
        "The GIL is a lock in CPython, and only one thread can execute bytecode at a time because of it. \
         That is why threads do not make number crunching faster.",
        "The GIL makes your code thread safe, so there is no need for locks when threads share data. \
         Threads are useless in Python anyway.",
        "GIL, mutex, reference counting, refcount, atomic, I/O bound, CPU bound, multiprocessing, \
         ProcessPoolExecutor, pickling, switch interval, 5 ms, free threading, PEP 703, nogil",
    ),
    (
        "mutable-default-args",
        "Default values are evaluated once, when the def statement runs, not at call time. The default list is \
         stored on the function in __defaults__, so if you append to it the same list is shared across calls and \
         keeps growing. The fix is to use None as the default and create a new list inside the function, checking \
         `if items is None` rather than truthiness so a caller who passes an empty list gets their own list used. \
         The same trap applies to datetime.now() as a default, dataclasses force you to use default_factory, and \
         linters like ruff's B006 flag it.",
        "The default list is created only once, when the function is defined, so every call that leaves out the \
         argument gets the same list.",
        "There is nothing wrong with it: the default is created on every call, so each call gets a fresh empty \
         list. It was a Python 2 bug that was fixed in Python 3.",
        "evaluated once, definition time, __defaults__, shared, same list, None sentinel, new list, \
         default_factory, B006, datetime.now, truthiness",
    ),
    (
        "is-vs-eq",
        "`is` checks identity, whether both names refer to the same object, while `==` checks value equality by \
         calling __eq__, which a class can define however it likes; `is` cannot be overridden. So I use `is` for \
         singletons such as `x is None` or a sentinel object, and `==` for values. Comparing numbers with `is` \
         seems to work because CPython caches small ints from -5 to 256 and interns some strings, but that is an \
         implementation detail, and since 3.8 the compiler gives a SyntaxWarning for `is` with a literal.",
        "The `is` operator checks whether two names point at the same object, so it compares identity, and you \
         use it for None.",
        "`is` compares values and `==` compares references, and I use is to compare strings because it is faster.",
        "identity, same object, value equality, __eq__, is None, singleton, sentinel, small int cache, -5 to 256, \
         interning, implementation detail, SyntaxWarning",
    ),
    (
        "gather-vs-taskgroup",
        "With gather and return_exceptions left False, the first exception propagates to the caller, but the other \
         awaitables are not cancelled: they keep running in the background. With return_exceptions=True you get the \
         results in the same order as the arguments, with exceptions as values in the result list. A TaskGroup, new \
         in 3.11, is structured concurrency: when one task fails it cancels the remaining tasks and waits for all of \
         them before the block exits, then raises an ExceptionGroup with all the failures, which you handle with \
         except*. I use a TaskGroup for all or nothing work and gather for best effort, and add a Semaphore to bound \
         concurrency because neither does.",
        "A TaskGroup cancels the remaining tasks when one of them fails and waits for all of them to finish, \
         which is what people mean by structured concurrency.",
        "They behave the same: gather cancels the remaining tasks as soon as one fails, and a TaskGroup re-raises \
         the original exception so a plain except ValueError catches it.",
        "gather, return_exceptions, not cancelled, keep running, TaskGroup, cancels the others, structured \
         concurrency, ExceptionGroup, except*, PEP 654, semaphore, best effort",
    ),
    (
        "memory-management",
        "CPython's main mechanism is reference counting: every object has a refcount and when it drops to zero the \
         object is freed immediately. Reference cycles never reach zero, so the gc module runs a cyclic collector \
         that finds unreachable groups, and it is generational, with three generations and a threshold of 700 up \
         to 3.12 and 2000 in 3.13. Small objects of up to 512 bytes come from pymalloc, which carves arenas into \
         pools, and because an arena goes back to the OS only when it is entirely empty, RSS often stays high after \
         a spike because of fragmentation. I use weakref for caches, and since PEP 442 cycles with __del__ are \
         collected.",
        "Python frees an object when its reference count drops to zero, and a separate garbage collector deals \
         with reference cycles.",
        "You don't need to think about memory in Python: Python handles memory automatically and Python cannot \
         leak, and a __del__ prevents garbage collection of a cycle.",
        "reference counting, refcount, drops to zero, cyclic gc, reference cycles, generations, 700, pymalloc, \
         arenas, pools, 512 bytes, fragmentation, RSS, weakref, PEP 442",
    ),
];

#[test]
fn offline_grader_ranks_strong_above_partial_above_wrong_and_stuffed() {
    let bank = bank();
    let mut table = Vec::new();
    for (id, strong, partial, wrong, stuffed) in RANKING {
        let q = bank.get(id).unwrap_or_else(|| panic!("{id} is in the bank"));
        let score = |a: &str| offline::grade(&q.rubric(), a).score().expect("the offline grader always grades");
        let (s, p, w, k) = (score(strong), score(partial), score(wrong), score(stuffed));
        table.push(format!("{id:<24} strong {s:>3}  partial {p:>3}  wrong {w:>3}  stuffed {k:>3}"));
        assert!(s > p, "{id}: strong {s} vs partial {p}");
        assert!(p > w, "{id}: partial {p} vs wrong {w}");
        assert!(p > k, "{id}: partial {p} vs stuffed {k}");
    }
    println!("{}", table.join("\n"));
}

#[test]
fn every_reference_answer_scores_full_marks_offline_with_no_red_flag() {
    fn flags_of(grade: &grill::grade::Grade) -> Vec<String> {
        let a = grade.assessment().expect("an offline grade has an assessment");
        a.red_flags.iter().map(|f| f.id.clone()).collect()
    }
    // A false red flag on the bank's own model answer would show the grader punishing
    // exactly what it asks for; follow-up answers are short, so only their flags count.
    let bank = bank();
    let mut problems = Vec::new();
    for q in bank.questions() {
        let grade = offline::grade(&q.rubric(), &q.reference_answer);
        let flags = flags_of(&grade);
        if grade.score() != Some(100) || !flags.is_empty() {
            problems.push(format!("{}: {:?} {flags:?}", q.id, grade.score()));
        }
        for f in &q.follow_ups {
            let grade = offline::grade(&f.rubric(), &f.answer);
            let flags = flags_of(&grade);
            if !flags.is_empty() {
                problems.push(format!("{} / {}: {flags:?}", q.id, f.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
