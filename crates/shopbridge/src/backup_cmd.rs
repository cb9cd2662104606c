//! `shopbridge backup` and `shopbridge restore`: a consistent copy of a running SQLite store, and
//! a store brought back from one, checked against the master key before it is used.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    config: crate::settings::ConfigArgs,
    #[command(flatten)]
    store: crate::sync_cmd::StoreArgs,
    /// The file to write (must not exist). It holds the shops' data and their sealed secrets;
    /// keep the master key file apart from it: the backup is useless without the key, and the
    /// key alone holds no data.
    file: PathBuf,
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let config = args.config.config.as_deref();
    let (_, key_file) = args.store.resolve(config)?;
    let store = args.store.open(config).await?;
    store
        .backup_to(&args.file)
        .await
        .with_context(|| format!("cannot back up to {}", args.file.display()))?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let tenants = store.tenants().await?;
    let shops: i64 = tenants.iter().map(|t| t.shops).sum();
    println!(
        "backed up {} tenants and {shops} shops to {} ({:.1} MiB, mode 0600)",
        tenants.len(),
        args.file.display(),
        size as f64 / 1_048_576.0
    );
    println!(
        "the secrets in it open only with the master key {} (key id {}): keep a copy of that file elsewhere",
        key_file.display(),
        store.vault().current_key_id()
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    config: crate::settings::ConfigArgs,
    #[command(flatten)]
    store: crate::sync_cmd::StoreArgs,
    /// A file `shopbridge backup` wrote.
    file: PathBuf,
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let config = args.config.config.as_deref();
    let (database, key_file) = args.store.resolve(config)?;
    let target = database
        .strip_prefix("sqlite://")
        .map(|rest| PathBuf::from(rest.split('?').next().unwrap_or(rest)))
        .context("--database: restore writes a SQLite file (sqlite://PATH); a PostgreSQL store is restored with pg_restore (README)")?;
    anyhow::ensure!(
        args.file.is_file(),
        "{}: no such backup file",
        args.file.display()
    );
    // The file and any journal beside it: a leftover write-ahead log would be replayed onto
    // the restored store.
    let beside = |suffix: &str| {
        let mut name = target.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    for path in [
        target.clone(),
        beside("-wal"),
        beside("-shm"),
        beside("-journal"),
    ] {
        anyhow::ensure!(
            std::fs::symlink_metadata(&path).is_err(),
            "{} exists: restore into a new path (stop the hub, move the old file and its -wal and -shm files away, then restore)",
            path.display()
        );
    }
    anyhow::ensure!(
        key_file.exists() || std::env::var("SHOPBRIDGE_MASTER_KEY").is_ok(),
        "{}: the master key file that goes with the backup is needed (a new key would not open its secrets)",
        key_file.display()
    );
    // A new file (never through a link, never over one), its owner's only from the start.
    let copied = (|| -> anyhow::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut into = options.open(&target)?;
        let mut from = std::fs::File::open(&args.file)?;
        std::io::copy(&mut from, &mut into)?;
        into.sync_all()?;
        Ok(())
    })();
    let remove_all = || {
        for path in [
            target.clone(),
            beside("-wal"),
            beside("-shm"),
            beside("-journal"),
        ] {
            let _ = std::fs::remove_file(path);
        }
    };
    if let Err(err) = copied {
        remove_all();
        return Err(err.context(format!("cannot copy the backup to {}", target.display())));
    }
    // Opening migrates an older backup and checks that the key opens its secrets.
    let store = match args.store.open(config).await {
        Ok(store) => store,
        Err(err) => {
            remove_all();
            return Err(err.context("the restored store did not open; nothing was kept"));
        }
    };
    let tenants = store.tenants().await?;
    let shops: i64 = tenants.iter().map(|t| t.shops).sum();
    println!(
        "restored {} tenants and {shops} shops into {}",
        tenants.len(),
        target.display()
    );
    Ok(())
}
