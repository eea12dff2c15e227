module probatio.local/tools/stub-schemas

go 1.25
