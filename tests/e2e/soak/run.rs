//! The soak's run: set up the schema, the registry, the server and the staff; let the
//! citizens come; sample; wind down; check and report.

use super::*;
use report::report;
use sampler::Sample;

/// Starts `videoreg demo` on a fresh schema with the test clock, runs the day and checks it.
pub async fn day(plan: Plan) {
    let db = TestDatabase::postgres()
        .await
        .expect("PostgreSQL must be reachable at VIDEOREG_TEST_POSTGRES or 127.0.0.1:5432");
    let app_name = format!("soak_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let url = format!("{}&application_name={app_name}", db.url);
    let csv = scratch_dir().join("registry.csv");
    let rows: String = (0..plan.citizens)
        .map(|i| format!("{},Persona {i} Ficticia,2031-03-15,2021-03-15,\n", dni(i)))
        .collect();
    std::fs::write(
        &csv,
        format!("id_number,full_name,valid_until,issued_on,support_number\n{rows}"),
    )
    .expect("write the registry");
    let (ok, _, err) = run(
        &["identities", "import", csv.to_str().expect("path")],
        &[("DATABASE_URL", &db.url)],
    )
    .await;
    assert!(ok, "identities import: {err}");

    let key = secrets_key_file();
    let speed = plan.speed.to_string();
    let grace = GRACE_SIM_SECS.to_string();
    let mut server = start(
        &[
            "demo",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &url,
            "--secrets-key-file",
            key.to_str().expect("path"),
            "--staff-mfa",
            "off",
            "--clock-start",
            CLOCK_START,
            "--clock-speed",
            &speed,
            "--media-ports",
            "45000-45999",
            // The heartbeat is a real-time interval; the limit is read on the fast clock.
            "--heartbeat-seconds",
            "1",
            "--node-dead-after-seconds",
            "3600",
            // Rules read the fast clock: an offer unanswered for 10 real seconds times out.
            "--offer-timeout-seconds",
            "600",
            "--queue-grace-seconds",
            &grace,
            "--staff-session-idle-minutes",
            "600",
            "--staff-session-max-hours",
            "24",
            // Every citizen of the soak comes from 127.0.0.1.
            "--citizen-sockets-per-address",
            "5000",
            "--verify-limit-per-address",
            "100000",
            "--test-call-per-address",
            "100000",
            "--test-call-at-once-per-address",
            "1000",
            "--password-checks-per-address",
            "8",
        ],
        &[("RUST_LOG", "warn,web=info")],
    )
    .await;
    let started = Instant::now();
    let pid = server.child.id().expect("running");
    let mut logs = std::mem::replace(&mut server.stdout, tokio::sync::mpsc::unbounded_channel().1);
    let log_lines = tokio::spawn(async move {
        // Warnings counted by message (the text after the log target).
        let (mut warnings, mut errors) = (BTreeMap::<String, u64>::new(), Vec::new());
        while let Some(line) = logs.recv().await {
            if line.contains("ERROR") {
                errors.push(line);
            } else if line.contains("WARN") {
                let message = line.split(": ").nth(1).unwrap_or(&line);
                let message: String = message.chars().take(60).collect();
                *warnings.entry(message).or_default() += 1;
            }
        }
        (warnings, errors)
    });

    let store = db.open().await.expect("open the run's schema");
    let day = Arc::new(Day {
        plan: plan.clone(),
        base: server.base.clone(),
        // Idle connections closed soon, so that the server's figures after the day are its own.
        client: reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .expect("client"),
        store,
        started,
        clock_start: CLOCK_START.parse().expect("RFC 3339"),
        media_tickets: Mutex::default(),
        vanished: Mutex::default(),
        tally: Mutex::default(),
        sockets: Arc::default(),
        closing: AtomicBool::new(false),
        agents_stop: AtomicBool::new(false),
    });
    // The agents share the demo agent's password: its hash is copied, as `user add` would
    // have written one per account.
    let password = demo_password(&server, "agente");
    let hash = day
        .store
        .find_staff_by_name("agente")
        .await
        .expect("read")
        .expect("the demo agent")
        .password_hash;
    for k in 0..plan.agents {
        let id = uuid::Uuid::new_v4().simple().to_string();
        day.store
            .insert_staff_user(
                &id,
                &format!("soak_agent_{k}"),
                store::StaffRole::Agent,
                &hash,
                day.server_now(),
            )
            .await
            .expect("add an agent");
    }

    let sample = |t: f64| {
        let (day, app_name) = (day.clone(), app_name.clone());
        async move { sampler::sample(t, pid, &day, &app_name).await }
    };
    let baseline = sample(started.elapsed().as_secs_f64()).await;
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let sampling = {
        let (samples, day, app_name) = (samples.clone(), day.clone(), app_name.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(day.plan.sample_every);
            loop {
                every.tick().await;
                let s = sampler::sample(day.started.elapsed().as_secs_f64(), pid, &day, &app_name)
                    .await;
                samples.lock().expect("lock").push(s);
            }
        })
    };

    let mut staff = tokio::task::JoinSet::new();
    for k in 0..plan.agents {
        let session = staff::sign_in(&day, &format!("soak_agent_{k}"), &password).await;
        staff.spawn(staff::agent(day.clone(), k, session));
    }
    let supervisor = demo_password(&server, "supervisora");
    staff.spawn(staff::dashboard(
        day.clone(),
        staff::sign_in(&day, "supervisora", &supervisor).await,
    ));
    staff.spawn(staff::dashboard(
        day.clone(),
        staff::sign_in(&day, "supervisora", &supervisor).await,
    ));
    staff.spawn(staff::console_watch(
        day.clone(),
        staff::sign_in(&day, "supervisora", &supervisor).await,
    ));

    let load_from = started.elapsed().as_secs_f64();
    let cpu_before = (
        proc_stats::cpu_seconds(Some(pid)),
        proc_stats::cpu_seconds(None),
        proc_stats::load_average(),
    );
    let mut citizens = tokio::task::JoinSet::new();
    let spacing = Duration::from_secs(plan.load_secs).div_f64(plan.citizens.max(1) as f64);
    for i in 0..plan.citizens {
        let day = day.clone();
        let at = tokio::time::Instant::now()
            + spacing.mul_f64(i as f64 + Rng::new(i as u64).below(100) as f64 / 100.0);
        citizens.spawn(async move {
            tokio::time::sleep_until(at).await;
            citizen::citizen(day, i).await;
        });
    }
    let load_to = load_from + plan.load_secs as f64;
    // Everyone admitted is served after the last arrival; whoever still waits at the cap leaves.
    let cap = tokio::time::sleep(Duration::from_secs(plan.load_secs + 120));
    let hard_cap = tokio::time::sleep(Duration::from_secs(plan.load_secs + 180));
    tokio::pin!(cap, hard_cap);
    loop {
        tokio::select! {
            next = citizens.join_next() => match next {
                Some(r) => r.expect("a citizen's task"),
                None => break,
            },
            () = &mut cap, if !day.closing() => day.closing.store(true, Ordering::Relaxed),
            () = &mut hard_cap => {
                day.tally("citizens_stuck_at_the_hard_cap_failed");
                citizens.abort_all();
                break;
            }
        }
    }
    let served_by = started.elapsed().as_secs_f64();
    let cpu = (
        proc_stats::cpu_seconds(Some(pid)) - cpu_before.0,
        proc_stats::cpu_seconds(None) - cpu_before.1,
        cpu_before.2,
        proc_stats::load_average(),
    );
    day.agents_stop.store(true, Ordering::Relaxed);
    while let Some(r) = staff.join_next().await {
        r.expect("a staff task");
    }

    // Places of citizens who vanished are let go after the grace period.
    let grace_real = Duration::from_secs(GRACE_SIM_SECS / u64::from(plan.speed.max(1)));
    let quiet_by = Instant::now() + grace_real + Duration::from_secs(20);
    while end_state::waiting(&day.store).await > 0 && Instant::now() < quiet_by {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Resources given back: poll until the figures are back near the baseline, or give up.
    // Timers' wake-ups (offer timeout, wrap-up) outlive their calls by up to 10 s.
    let settle_by = Instant::now() + Duration::from_secs(30);
    let given_back = |s: &Sample| {
        s.udp <= baseline.udp
            && s.tasks <= baseline.tasks + 10.0
            && s.fds - s.db <= baseline.fds - baseline.db + 10.0
    };
    let after = loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let s = sample(started.elapsed().as_secs_f64()).await;
        if given_back(&s) || Instant::now() > settle_by {
            break s;
        }
    };
    sampling.abort();
    let vanished = day.vanished.lock().expect("lock").clone();
    let impossible =
        end_state::impossible(&day.store, day.count("approved") as i64, &vanished).await;
    let outcomes = end_state::outcomes(&day.store).await;
    let _ = server.child.kill().await;
    let (warnings, errors) = log_lines.await.expect("log reader");

    let samples = samples.lock().expect("lock").clone();
    // Settled: from a quarter into the load until the last arrival.
    let settle_from = load_from + 0.25 * plan.load_secs as f64;
    let settled: Vec<Sample> = samples
        .iter()
        .copied()
        .filter(|s| s.t >= settle_from && s.t <= load_to)
        .collect();
    let growth = sampler::growth(&samples, &settled);
    let busy = served_by - load_from;
    println!(
        "CPU from the first arrival until everyone was done ({busy:.0} s): server {:.0} s ({:.2} cores), driver {:.0} s ({:.2} cores); load average {:.1} before, {:.1} after",
        cpu.0,
        cpu.0 / busy,
        cpu.1,
        cpu.1 / busy,
        cpu.2,
        cpu.3
    );
    report(
        &plan,
        &day,
        &samples,
        &baseline,
        &after,
        &growth,
        (load_from, load_to, served_by),
        &outcomes,
        &warnings,
        &errors,
    );

    assert!(
        settled.len() >= 8,
        "too few samples in the settled window: {}",
        settled.len()
    );
    assert!(
        samples
            .iter()
            .all(|s| s.tasks.is_finite() && s.db.is_finite()),
        "every sample read tasks and connections"
    );
    assert!(
        samples.iter().any(|s| s.db >= 1.0),
        "pg_stat_activity shows the server's connections"
    );
    let unbounded: Vec<_> = growth.iter().filter(|g| g.unbounded).collect();
    assert!(unbounded.is_empty(), "grows without bound: {unbounded:#?}");
    assert!(
        impossible.is_empty(),
        "impossible states after the day: {impossible:?}"
    );
    assert_eq!(
        after.udp, baseline.udp,
        "UDP sockets given back after the day"
    );
    assert!(
        after.tasks <= baseline.tasks + 10.0,
        "tasks back near the baseline: {} after, {} before",
        after.tasks,
        baseline.tasks
    );
    assert!(
        after.fds - after.db <= baseline.fds - baseline.db + 10.0,
        "descriptors other than the pool's back near the baseline: {} ({} connections) after, {} ({}) before",
        after.fds,
        after.db,
        baseline.fds,
        baseline.db
    );
    assert!(errors.is_empty(), "the server logged errors: {errors:#?}");
    assert!(
        day.count("approved") > 0 && day.count("rejected") > 0,
        "decisions were made"
    );
    let stray: Vec<_> = day
        .tally
        .lock()
        .expect("lock")
        .iter()
        .filter(|(k, _)| {
            k.contains("unexpected") || k.contains("unanswered") || k.contains("failed")
        })
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    assert!(stray.is_empty(), "steps that went wrong: {stray:?}");
}
